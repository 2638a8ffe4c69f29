//! Errors of the catalogue: broken data at load, unknown names at lookup.

/// The catalogue data is inconsistent. Raised once, at start-up, so a bad data file
/// stops the program instead of giving wrong authorization answers later.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("catalogue file {file} is not valid JSON of the expected shape: {source}")]
    Json {
        file: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("catalogue file {file} lists {what} {key:?} twice; each must be unique")]
    Duplicate {
        file: &'static str,
        what: &'static str,
        key: String,
    },
    #[error(
        "catalogue file {file} refers to {what} {key:?}, which is not defined; fix the data files"
    )]
    DanglingReference {
        file: &'static str,
        what: &'static str,
        key: String,
    },
}

/// A name given by a caller does not exist in the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    #[error(
        "unknown role {0:?}: give a role code (daglig-leder), its URN \
         (urn:altinn:external-role:ccr:daglig-leder), its ER code (DAGL) or its legacy URN \
         (urn:altinn:rolecode:dagl); the role metadata endpoints list every role"
    )]
    UnknownRole(String),
    #[error(
        "unknown access package {0:?}: give a package code (skatt-naering), its URN \
         (urn:altinn:accesspackage:skatt-naering) or its id; \
         GET /accessmanagement/api/v1/meta/info/accesspackages/export lists every package"
    )]
    UnknownPackage(String),
    #[error(
        "unknown entity variant {0:?}: give an organisation form code such as AS, ENK, BEDR, \
         NUF, ESEK or BRL"
    )]
    UnknownEntityVariant(String),
}
