//! The PHP extension wraps glibc's `getaddrinfo()` (see `src/session/kafka/fork_guard.rs`):
//! `--wrap` sends every call the extension's objects make, librdkafka's included, to
//! `__wrap_getaddrinfo`. Only the extension's own link gets it; the cfg tells the code so, so
//! the flag and the wrapper cannot exist one without the other.

fn main() {
    println!("cargo:rustc-check-cfg=cfg(fork_guarded_lookups)");
    println!("cargo:rerun-if-changed=build.rs");
    let php = std::env::var_os("CARGO_FEATURE_PHP").is_some();
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    if php && linux {
        println!("cargo:rustc-cdylib-link-arg=-Wl,--wrap=getaddrinfo");
        println!("cargo:rustc-cfg=fork_guarded_lookups");
    }
}
