//! The registry sees exactly the backends of the enabled features, plus the custom crate this
//! test names, even though no backend is named in code: they are found by their dotted names.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use myapp_cache as _; // a third-party backend crate must be named once to be linked

#[test]
fn registered_backends_are_exactly_the_enabled_ones() {
    let mut expected = vec!["myapp.cache.MyCustomCache"];
    for (enabled, name) in [
        (cfg!(feature = "memory"), "openviper.cache.InMemoryCache"),
        (cfg!(feature = "redis"), "openviper.cache.RedisCache"),
        (
            cfg!(feature = "dragonfly"),
            "openviper.cache.DragonflyCache",
        ),
        (
            cfg!(feature = "memcached"),
            "openviper.cache.MemcachedCache",
        ),
        (cfg!(feature = "file"), "openviper.cache.FileCache"),
        (
            cfg!(any(
                feature = "database-postgres",
                feature = "database-sqlite",
                feature = "database-mysql"
            )),
            "openviper.cache.DatabaseCache",
        ),
    ] {
        if enabled || cfg!(feature = "full") {
            expected.push(name);
        }
    }
    expected.sort_unstable();
    assert_eq!(openviper_cache::registered_backends(), expected);
    let mut builtin = openviper_cache::builtin_backends();
    builtin.sort_unstable();
    assert_eq!(
        builtin,
        expected
            .iter()
            .copied()
            .filter(|n| n.starts_with("openviper."))
            .collect::<Vec<_>>()
    );
}
