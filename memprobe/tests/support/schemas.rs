//! The schema checks both crates' `tests/schemas.rs` share (the daemon's includes this file by
//! path): a committed schema against the one its types generate, blessed on request, and a JSON
//! value validated against a schema with the `jsonschema` crate.

use memprobe::schema::FileSchema;
use serde_json::Value;
use std::path::PathBuf;

/// The environment variable that rewrites the committed schemas.
pub const BLESS: &str = "MEMPROBE_BLESS_SCHEMAS";

/// The repository's `schemas/` directory.
pub fn schemas_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the crate sits in the workspace")
        .join("schemas")
}

/// Checks that `schemas/<file>` is what the types generate; with `MEMPROBE_BLESS_SCHEMAS` set,
/// writes it instead. `test_command` is how to rerun the check (named in the failure).
pub fn check_committed(schemas: &[FileSchema], test_command: &str) {
    let dir = schemas_dir();
    let bless = std::env::var_os(BLESS).is_some();
    let mut problems = Vec::new();
    for schema in schemas {
        let path = dir.join(schema.file_name());
        let generated = schema.to_json();
        if bless {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &generated)
                .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
            continue;
        }
        let committed = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) => {
                problems.push(format!("{}: cannot read it ({e})", path.display()));
                continue;
            }
        };
        if committed != generated {
            let diff = similar::TextDiff::from_lines(&committed, &generated);
            problems.push(format!(
                "{} differs from the schema the types generate:\n{}",
                path.display(),
                diff.unified_diff()
                    .context_radius(2)
                    .header("committed", "generated")
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{}\nrun `{BLESS}=1 {test_command}` to update, and bump the schema version if the change is not additive (a field removed, renamed, retyped or newly required)",
        problems.join("\n")
    );
}

/// `instance` validated against `schema`: every error with where it is, or `Ok`.
pub fn validate(schema: &Value, instance: &Value) -> Result<(), String> {
    let validator = jsonschema::validator_for(schema).expect("the schema is a valid schema");
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("at `{}`: {e}", e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("\n"))
    }
}

/// Asserts that `instance` (read from `what`) validates against `schema`.
pub fn assert_valid(schema: &FileSchema, instance: &Value, what: &str) {
    if let Err(errors) = validate(&schema.schema, instance) {
        panic!(
            "{what} does not validate against {}:\n{errors}\n{instance:#}",
            schema.file_name()
        );
    }
}

/// Asserts that `instance` is rejected by `schema`, with an error mentioning `expected`.
pub fn assert_rejected(schema: &FileSchema, instance: &Value, expected: &str) {
    match validate(&schema.schema, instance) {
        Ok(()) => panic!(
            "{} accepted an invalid file:\n{instance:#}",
            schema.file_name()
        ),
        Err(errors) => assert!(errors.contains(expected), "{errors}"),
    }
}
