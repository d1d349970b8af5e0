//! docs/keys.md lists the key table's columns exactly as engine::schema
//! defines them (name, type, null on frames without keys, Wireshark field,
//! meaning), in file order.

use engine::schema::COLUMNS;
use std::path::Path;

fn doc_rows() -> Vec<String> {
    COLUMNS
        .iter()
        .map(|c| {
            let tshark = if c.tshark.is_empty() {
                String::new()
            } else {
                format!("`{}`", c.tshark)
            };
            format!(
                "| `{}` | {} | {} | {} | {} |",
                c.name,
                c.ty.name(),
                if c.nullable { "yes" } else { "no" },
                tshark,
                c.doc
            )
        })
        .collect()
}

#[test]
fn docs_list_every_column_in_order() {
    let expected = doc_rows();
    if std::env::var_os("PRINT_KEYS_DOC").is_some() {
        println!("{}", expected.join("\n"));
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/keys.md");
    let text = std::fs::read_to_string(&path).expect("docs/keys.md");
    let columns = text
        .split("\n## Columns\n")
        .nth(1)
        .expect("a Columns section");
    let found: Vec<&str> = columns
        .lines()
        .filter(|l| l.starts_with("| `"))
        .take(expected.len())
        .collect();
    assert_eq!(
        found, expected,
        "docs/keys.md's column table (PRINT_KEYS_DOC=1 prints it)"
    );
}
