//! UI tests: what compiles, and the errors for what does not (`TRYBUILD=overwrite` rewrites
//! the expected `.stderr` files).

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/union/*.rs");
    t.compile_fail("tests/ui/syntax/*.rs");
    t.compile_fail("tests/ui/unknown_key/*.rs");
    t.compile_fail("tests/ui/duplicate_key/*.rs");
    t.compile_fail("tests/ui/bitcode/*.rs");
    // Types that are not messages: the hints `#[diagnostic::on_unimplemented]` gives. Around
    // them is rustc's own wording of trait errors, which changes between releases (1.86 words
    // these differently); the expected output is 1.95's, so older compilers skip them.
    if rustversion::cfg!(since(1.95)) {
        t.compile_fail("tests/ui/not_a_message/*.rs");
        // A field whose type has no schema fingerprint, reported at the field.
        t.compile_fail("tests/ui/no_schema/*.rs");
        // `OwnedArchive` refuses archived types aligned above 16 at compile time.
        t.compile_fail("tests/ui/overaligned/*.rs");
    }
}
