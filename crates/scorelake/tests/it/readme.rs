//! The README's library snippet is the compiled example
//! `examples/filter_late.rs` from its first `use` on.

use std::path::Path;

#[test]
fn library_snippet_is_the_filter_late_example() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(crate_dir.join("../../README.md")).unwrap();
    let example = std::fs::read_to_string(crate_dir.join("examples/filter_late.rs")).unwrap();
    let section = &readme[readme.find("## Library").expect("a Library section")..];
    let start = section.find("```rust\n").expect("a Rust code block") + "```rust\n".len();
    let end = start + section[start..].find("```").expect("the block's end");
    let body = &example[example.find("\nuse ").expect("a use line") + 1..];
    assert_eq!(&section[start..end], body);
}
