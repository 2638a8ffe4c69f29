//! Bulk import of parties: the operator API's request and report, as its OpenAPI
//! document describes them. The import itself is `systembruker_app::register::import`.

use utoipa::ToSchema;

pub use systembruker_app::register::import::{
    ImportResponse, ParsedImport, PartyImportRow, RejectedRow, apply, parse_csv, parse_json,
};

/// The schemas of the import's JSON (the types are the application layer's).
pub mod schema {
    use super::ToSchema;

    /// One party to import. JSON uses these names; CSV uses the columns of the reference's
    /// test-parties.csv (`party_uuid, party_id, party_type, display_name, person_identifier,
    /// organization_identifier, unit_status, unit_type, mainunit_party_uuid`).
    #[derive(ToSchema)]
    #[schema(as = PartyImportRow)]
    #[serde(rename_all = "camelCase")]
    pub struct PartyImportRowSchema {
        pub party_uuid: Option<String>,
        pub party_id: Option<String>,
        /// `organization` or `person`.
        pub party_type: Option<String>,
        pub name: Option<String>,
        pub person_identifier: Option<String>,
        pub organization_identifier: Option<String>,
        pub unit_status: Option<String>,
        pub unit_type: Option<String>,
        pub main_unit_party_uuid: Option<String>,
    }

    /// A row that was refused, and every reason why.
    #[derive(ToSchema)]
    #[schema(as = RejectedRow)]
    #[serde(rename_all = "camelCase")]
    pub struct RejectedRowSchema {
        /// 1-based position in the input (for CSV: the data row, not counting the header).
        pub row: usize,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub identifier: Option<String>,
        pub reasons: Vec<String>,
    }

    #[derive(ToSchema)]
    #[schema(as = ImportResponse)]
    #[serde(rename_all = "camelCase")]
    pub struct ImportResponseSchema {
        pub created: usize,
        pub updated: usize,
        /// When not empty, nothing was stored.
        pub rejected: Vec<RejectedRowSchema>,
    }
}
