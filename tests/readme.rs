//! The README's quick start is `examples/quickstart.rs`, which compiles and runs as an
//! example; this keeps the README's copy from drifting away from it.

#[test]
fn readme_quick_start_is_the_quickstart_example() {
    let readme = include_str!("../README.md");
    let example = include_str!("../examples/quickstart.rs");
    assert!(
        readme.contains(example),
        "README.md's quick start differs from examples/quickstart.rs: copy the example into it"
    );
}
