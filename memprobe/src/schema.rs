//! JSON Schemas (draft 2020-12) of the files memprobe writes, generated from the Rust types that
//! serialize them, so a schema cannot describe a field the code no longer writes. The committed
//! copies live in the repository's `schemas/` directory as `<name>.v<version>.schema.json`; the
//! test `tests/schemas.rs` regenerates them and fails when a type changed without its schema.
//!
//! Each schema carries its version twice: in `$id` (and the file name), and as a `const` on the
//! file's own version field (`version` of a report, `format` of a baseline), so a validator
//! rejects a file of another version instead of reading it by accident.
//!
//! Behind the `json-schema` feature: the `schemars` derives on every serialized type cost
//! compile time that users who never read a schema should not pay.

use serde_json::Value;

/// Where the `$id`s point: the repository's `schemas/` directory.
const ID_BASE: &str = concat!(env!("CARGO_PKG_REPOSITORY"), "/schemas/");

/// One versioned schema: its name, its version and the schema itself.
///
/// # Examples
///
/// ```
/// let schema = memprobe::schema::report();
/// assert_eq!(schema.file_name(), format!("report.v{}.schema.json", memprobe::report::SCHEMA_VERSION));
/// assert_eq!(schema.schema["$id"], schema.id());
/// assert_eq!(schema.schema["properties"]["schema"]["const"], "memprobe.report");
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct FileSchema {
    /// The file kind, e.g. `report`: the first part of the file name.
    pub name: &'static str,
    /// The schema version, as the files of this kind record it.
    pub version: u32,
    /// The schema, with `$id` and `title` set.
    pub schema: Value,
}

impl FileSchema {
    /// The schema of `T`'s serialized form as file kind `name`, version `version`, described by
    /// `title`.
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe::schema::FileSchema;
    /// let s = FileSchema::of::<memprobe::MemorySnapshot>("snapshot", 1, "A memory snapshot");
    /// assert_eq!(s.schema["title"], "A memory snapshot");
    /// assert_eq!(s.schema["properties"]["rss_bytes"]["type"], "integer");
    /// assert!(s.id().ends_with("/schemas/snapshot.v1.schema.json"));
    /// ```
    pub fn of<T: schemars::JsonSchema>(name: &'static str, version: u32, title: &str) -> Self {
        // What memprobe writes, not what it accepts: a field always written (if only as
        // `null`) is required, one skipped when empty is not.
        let mut schema = schemars::generate::SchemaSettings::draft2020_12()
            .for_serialize()
            .into_generator()
            .into_root_schema_for::<T>()
            .to_value();
        trim_descriptions(&mut schema);
        let mut me = FileSchema {
            name,
            version,
            schema: Value::Null,
        };
        if let Some(object) = schema.as_object_mut() {
            object.insert("$id".to_owned(), me.id().into());
            object.insert("title".to_owned(), title.into());
        }
        me.schema = schema;
        me
    }

    /// Requires top-level property `field` to equal `value` (a schema name, a version), so
    /// files of another kind or version are rejected.
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe::schema::FileSchema;
    /// let s = FileSchema::of::<memprobe::MemorySnapshot>("snapshot", 1, "t").with_const("rss_bytes", 0);
    /// assert_eq!(s.schema["properties"]["rss_bytes"]["const"], 0);
    /// ```
    #[must_use]
    pub fn with_const(mut self, field: &str, value: impl Into<Value>) -> Self {
        if let Some(property) = self.schema["properties"].get_mut(field)
            && let Some(object) = property.as_object_mut()
        {
            object.insert("const".to_owned(), value.into());
        }
        self
    }

    /// The file name under `schemas/`: `<name>.v<version>.schema.json`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(memprobe::schema::baseline().file_name(), "baseline.v1.schema.json");
    /// ```
    pub fn file_name(&self) -> String {
        format!("{}.v{}.schema.json", self.name, self.version)
    }

    /// The `$id`: the file's place in the repository's `schemas/` directory.
    ///
    /// # Examples
    ///
    /// ```
    /// let id = memprobe::schema::baseline().id();
    /// assert!(id.starts_with("https://") && id.ends_with("/schemas/baseline.v1.schema.json"), "{id}");
    /// ```
    pub fn id(&self) -> String {
        format!("{ID_BASE}{}", self.file_name())
    }

    /// The committed text: pretty-printed JSON with a final newline.
    ///
    /// # Examples
    ///
    /// ```
    /// let text = memprobe::schema::baseline().to_json();
    /// assert!(text.starts_with('{') && text.ends_with("}\n"));
    /// ```
    pub fn to_json(&self) -> String {
        // A `Value` always serializes.
        let mut text = serde_json::to_string_pretty(&self.schema).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// Keeps each `description` (a type's or field's doc comment) to its prose: rustdoc sections
/// (`# Examples` and its doctest) are for the API docs, not for readers of a file format.
fn trim_descriptions(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match v {
                    Value::String(text) if key == "description" => {
                        if let Some(at) = text.find("\n\n# ") {
                            text.truncate(at);
                        }
                    }
                    _ => trim_descriptions(v),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(trim_descriptions),
        _ => {}
    }
}

/// The test report `#[memprobe]` writes (and [`crate::Report::to_json`] returns).
///
/// # Examples
///
/// ```
/// let s = memprobe::schema::report();
/// assert_eq!(s.schema["properties"]["version"]["const"], memprobe::report::SCHEMA_VERSION);
/// ```
pub fn report() -> FileSchema {
    use crate::report::{SCHEMA, SCHEMA_VERSION};
    FileSchema::of::<crate::report::Versioned<'static>>(
        "report",
        SCHEMA_VERSION,
        "memprobe test report",
    )
    .with_const("schema", SCHEMA)
    .with_const("version", SCHEMA_VERSION)
}

/// A baseline file (TOML): the schema validates its parsed form, read as JSON.
///
/// # Examples
///
/// ```
/// let s = memprobe::schema::baseline();
/// assert_eq!(s.schema["properties"]["format"]["const"], 1);
/// assert_eq!(s.schema["additionalProperties"], false);
/// ```
pub fn baseline() -> FileSchema {
    FileSchema::of::<crate::baseline::File>(
        "baseline",
        crate::baseline::FORMAT,
        "memprobe baseline (TOML, validated in its parsed form)",
    )
    .with_const("format", crate::baseline::FORMAT)
}

/// A per-item baseline file (TOML) of a scaling test: costs per item from the fit.
///
/// # Examples
///
/// ```
/// let s = memprobe::schema::per_item_baseline();
/// assert!(s.schema["required"].as_array().unwrap().contains(&"alloc_bytes_per_item".into()));
/// ```
pub fn per_item_baseline() -> FileSchema {
    use crate::scaling::{PER_ITEM_FORMAT, PerItemFile};
    FileSchema::of::<PerItemFile>(
        "baseline-per-item",
        PER_ITEM_FORMAT,
        "memprobe per-item baseline of a scaling test (TOML, validated in its parsed form)",
    )
    .with_const("format", PER_ITEM_FORMAT)
}

/// The version of the allocation-site profile's schema ([`sites`]).
#[cfg(feature = "sites")]
pub const SITES_VERSION: u32 = 1;

/// An allocation-site profile as JSON (`<stem>.sites.json`, written by
/// [`crate::sites::render::json`]).
///
/// The profile has no `schema` or `version` field of its own, so its version is carried by the
/// schema's `$id` and file name only (`sites.v1.schema.json`); readers such as
/// `memprobe-daemon compare` recognise a profile by its shape.
///
/// # Examples
///
/// ```
/// let s = memprobe::schema::sites();
/// assert_eq!(s.file_name(), "sites.v1.schema.json");
/// assert!(s.schema["required"].as_array().unwrap().contains(&"mean_interval_bytes".into()));
/// ```
#[cfg(feature = "sites")]
pub fn sites() -> FileSchema {
    FileSchema::of::<crate::sites::Profile>(
        "sites",
        SITES_VERSION,
        "memprobe allocation-site profile",
    )
}

/// Every schema of a file this crate writes (the site profile's with the `sites` feature).
///
/// # Examples
///
/// ```
/// let names: Vec<_> = memprobe::schema::all().iter().map(|s| s.name).collect();
/// assert_eq!(names[..3], ["report", "baseline", "baseline-per-item"]);
/// ```
pub fn all() -> Vec<FileSchema> {
    let all = vec![report(), baseline(), per_item_baseline()];
    #[cfg(feature = "sites")]
    let all = {
        let mut all = all;
        all.push(sites());
        all
    };
    all
}
