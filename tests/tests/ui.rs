//! The macros' compile errors: each rejected form has a file in `tests/ui/` with the
//! expected compiler output beside it. After a compiler upgrade changes the wording,
//! refresh them with `TRYBUILD=overwrite cargo test -p csp-tests --test ui` and review
//! the diff: the span must still point at the offending token.

#[test]
fn macro_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/*.rs");
}
