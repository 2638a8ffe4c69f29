//! Tests against the reference data and the rules of docs/rules.md#packages-and-roles
//! and docs/rules.md#delegation-check.

use std::collections::HashSet;

use uuid::Uuid;

use super::*;

fn catalogue() -> &'static Catalogue {
    Catalogue::builtin_checked().unwrap()
}

fn codes(held: &[HeldPackage]) -> HashSet<&str> {
    held.iter().map(|h| h.package.code.as_str()).collect()
}

fn held<'h>(held: &'h [HeldPackage], code: &str) -> &'h HeldPackage {
    held.iter().find(|h| h.package.code == code).unwrap()
}

fn descriptions(reasons: &[Reason]) -> Vec<&str> {
    reasons.iter().map(|r| r.description.as_str()).collect()
}

/// The rows of `role` as (package code → (hasAccess, canDelegate)).
fn row(role: &str, package: &str) -> Option<(bool, bool)> {
    catalogue()
        .packages_for_role(role, None)
        .unwrap()
        .into_iter()
        .find(|r| r.package.code == package)
        .map(|r| (r.has_access, r.can_delegate))
}

// ----- the demo cast (party UUIDs are arbitrary; org numbers in the comments) -----

const ROR_OG_VANN: Uuid = Uuid::from_u128(0x315000009); // Rør og Vann AS, 315000009
const TALLMAKERNE: Uuid = Uuid::from_u128(0x315100003); // Tallmakerne AS, 315100003
const PIA: Uuid = Uuid::from_u128(0xA1);
const OLA: Uuid = Uuid::from_u128(0xA2);
const TINA: Uuid = Uuid::from_u128(0xA3);

fn demo_facts() -> InMemoryFacts {
    InMemoryFacts::default()
        .with_org(ROR_OG_VANN, "AS", None)
        .with_org(TALLMAKERNE, "AS", None)
        .with_role(ROR_OG_VANN, PIA, "DAGL")
        .with_role(TALLMAKERNE, TINA, "DAGL")
        .with_role(ROR_OG_VANN, TALLMAKERNE, "REGN")
}

// ----- loading and counts -----

#[test]
fn embedded_data_loads() {
    let catalogue = Catalogue::builtin_checked();
    assert!(catalogue.is_ok(), "{:?}", catalogue.err());
    assert!(std::ptr::eq(Catalogue::builtin(), catalogue.unwrap()));
}

#[test]
fn counts_match_the_reference() {
    let c = catalogue();
    assert_eq!(c.packages().len(), 223);
    assert_eq!(c.areas().len(), 49);
    assert_eq!(c.area_groups().len(), 5);
    assert_eq!(c.roles().len(), 148);
    assert_eq!(c.entity_variants().len(), 58);
    assert_eq!(c.role_packages().len(), 1285);
    assert_eq!(c.role_map().len(), 304);
    let org = c
        .packages()
        .iter()
        .filter(|p| p.entity_type == "Organization")
        .count();
    assert_eq!((org, 223 - org), (147, 76));
    assert_eq!(c.roles().iter().filter(|r| r.is_key_role).count(), 8);
    // The URN is `urn:altinn:accesspackage:<code>` for all packages but one.
    let odd: Vec<&str> = c
        .packages()
        .iter()
        .filter(|p| p.urn != format!("urn:altinn:accesspackage:{}", p.code))
        .map(|p| p.code.as_str())
        .collect();
    assert_eq!(
        odd,
        vec!["vergemal-namsmannen-tvangsfullbyrdelse-forliksradet"]
    );
}

#[test]
fn a_package_answers_to_its_urn_suffix_as_code_too() {
    // XACML policies carry the URN's last segment, which differs from the code once.
    let c = catalogue();
    let by_suffix = c
        .package_by_code("namsmannen-tvangsfullbyrdelse-forliksradet")
        .unwrap();
    assert_eq!(
        by_suffix.code,
        "vergemal-namsmannen-tvangsfullbyrdelse-forliksradet"
    );
}

#[test]
fn export_groups_all_packages_by_area_group_and_area() {
    let export = catalogue().export(Language::En);
    let per_group: Vec<(&str, usize, usize)> = export
        .iter()
        .map(|g| {
            let packages = g.areas.iter().map(|a| a.packages.len()).sum();
            (g.name.as_str(), g.areas.len(), packages)
        })
        .collect();
    assert_eq!(
        per_group,
        vec![
            ("General", 7, 59),
            ("Industry", 10, 79),
            ("Special", 4, 9),
            ("Inhabitant", 11, 35),
            ("Guardianship", 17, 41),
        ]
    );
}

#[test]
fn export_serializes_in_the_reference_shape() {
    let export = catalogue().export(Language::Nb);
    let json = serde_json::to_value(&export).unwrap();
    let group = &json[0];
    for key in ["id", "name", "urn", "description", "type", "areas"] {
        assert!(group.get(key).is_some(), "area group lacks {key}");
    }
    let area = &group["areas"][0];
    for key in ["id", "name", "urn", "description", "icon", "packages"] {
        assert!(area.get(key).is_some(), "area lacks {key}");
    }
    let package = &area["packages"][0];
    for key in [
        "id",
        "name",
        "urn",
        "description",
        "isDelegable",
        "isAssignable",
        "areaId",
    ] {
        assert!(package.get(key).is_some(), "package lacks {key}");
    }
    assert_eq!(group["name"], "Allment");
}

#[test]
fn records_serialize_with_the_data_files_field_names() {
    let role = serde_json::to_value(catalogue().role("dagl").unwrap()).unwrap();
    assert_eq!(role["legacyCode"], "dagl");
    assert_eq!(role["isKeyRole"], true);
    let package = serde_json::to_value(catalogue().package("skatt-naering").unwrap()).unwrap();
    assert_eq!(package["isAvailableForServiceOwners"], true);
    assert_eq!(package["name"]["en"], "Business tax");
}

#[test]
fn from_json_rejects_broken_data() {
    let packages = include_str!("../../data/access-packages.json");
    let roles = include_str!("../../data/roles.json");
    let map = include_str!("../../data/role-package-map.json");
    let dangling = map.replacen(
        "urn:altinn:accesspackage:klientadministrator",
        "urn:altinn:accesspackage:no-such-package",
        1,
    );
    let error = Catalogue::from_json(packages, roles, &dangling).unwrap_err();
    assert!(matches!(
        error,
        CatalogueError::DanglingReference {
            what: "package",
            ..
        }
    ));
    assert!(error.to_string().contains("no-such-package"));
    let error = Catalogue::from_json("{", roles, map).unwrap_err();
    assert!(matches!(
        error,
        CatalogueError::Json {
            file: "access-packages.json",
            ..
        }
    ));
}

// ----- lookups -----

#[test]
fn roles_are_found_by_every_form_in_any_case() {
    let c = catalogue();
    for key in [
        "DAGL",
        "dagl",
        "daglig-leder",
        "Daglig-Leder",
        "urn:altinn:external-role:ccr:daglig-leder",
        "urn:altinn:rolecode:dagl",
        "URN:ALTINN:ROLECODE:DAGL",
    ] {
        assert_eq!(c.role(key).unwrap().code, "daglig-leder", "{key}");
    }
    for key in [
        "FFØR",
        "ffør",
        "forretningsforer",
        "urn:altinn:rolecode:FFØR",
    ] {
        assert_eq!(c.role(key).unwrap().code, "forretningsforer", "{key}");
    }
    assert_eq!(c.role("KLADM").unwrap().urn, "urn:altinn:rolecode:kladm");
    assert_eq!(
        c.role("hovedadministrator").unwrap().urn,
        "urn:altinn:role:hovedadministrator"
    );
    let dagl = c.role("dagl").unwrap();
    assert_eq!(c.role_by_id(dagl.id).unwrap().code, "daglig-leder");
}

#[test]
fn every_role_is_found_by_each_of_its_names() {
    let c = catalogue();
    for role in c.roles() {
        let names = [
            Some(&role.code),
            Some(&role.urn),
            role.legacy_code.as_ref(),
            role.legacy_urn.as_ref(),
        ];
        for name in names.into_iter().flatten() {
            assert_eq!(c.role(name).unwrap().id, role.id, "{name}");
        }
    }
}

#[test]
fn unknown_role_says_what_to_give_instead() {
    let error = catalogue().role("sjef").unwrap_err();
    assert_eq!(error, LookupError::UnknownRole("sjef".into()));
    let message = error.to_string();
    assert!(
        message.contains("\"sjef\"") && message.contains("DAGL"),
        "{message}"
    );
}

#[test]
fn packages_are_found_by_urn_code_and_id() {
    let c = catalogue();
    let package = c.package_by_code("skatt-naering").unwrap();
    assert_eq!(package.urn, "urn:altinn:accesspackage:skatt-naering");
    assert_eq!(
        c.package_by_urn("URN:ALTINN:ACCESSPACKAGE:SKATT-NAERING")
            .unwrap()
            .id,
        package.id
    );
    assert_eq!(c.package_by_id(package.id).unwrap().code, "skatt-naering");
    for key in [
        "skatt-naering",
        "urn:altinn:accesspackage:skatt-naering",
        &package.id.to_string(),
    ] {
        assert_eq!(c.package(key).unwrap().id, package.id, "{key}");
    }
    assert_eq!(
        c.area_of(package).unwrap().urn,
        "accesspackage:area:skatt_avgift_regnskap_og_toll"
    );
}

#[test]
fn the_demo_package_is_skatt_naering_not_skattnaering() {
    let error = catalogue().package("skattnaering").unwrap_err();
    assert_eq!(error, LookupError::UnknownPackage("skattnaering".into()));
    assert!(error.to_string().contains("skatt-naering"));
}

#[test]
fn role_map_gives_the_altinn2_roles() {
    let implied: HashSet<String> = catalogue()
        .implied_roles("DAGL")
        .unwrap()
        .into_iter()
        .map(|r| r.code.clone())
        .collect();
    for code in ["hadm", "kladm", "admai"] {
        assert!(
            implied.contains(code),
            "DAGL should imply {code}: {implied:?}"
        );
    }
    let regn = catalogue().implied_roles("REGN").unwrap();
    let regn: HashSet<&str> = regn.iter().map(|r| r.code.as_str()).collect();
    assert!(["a0239", "a0240", "a0241"].iter().all(|c| regn.contains(c)));
}

#[test]
fn language_tags_pick_the_translation() {
    assert_eq!(Language::from_tag("en-GB,en;q=0.9"), Language::En);
    assert_eq!(Language::from_tag("nn"), Language::Nn);
    assert_eq!(Language::from_tag("de"), Language::Nb);
    assert_eq!(Language::from_tag(""), Language::Nb);
}

// ----- package flags -----

#[test]
fn er_only_packages_are_delegable_but_not_assignable() {
    for code in [
        "regnskapsforer-med-signeringsrettighet",
        "regnskapsforer-uten-signeringsrettighet",
        "regnskapsforer-lonn",
        "ansvarlig-revisor",
        "revisormedarbeider",
        "forretningsforer-eiendom",
    ] {
        let p = catalogue().package(code).unwrap();
        assert!(!p.is_assignable && p.is_delegable, "{code}");
    }
}

#[test]
fn admin_packages_are_assignable_but_not_delegable_nor_for_service_owners() {
    for code in [
        "tilgangsstyrer",
        "klientadministrator",
        "hovedadministrator",
        "maskinporten-administrator",
        "konkursbo-tilgangsstyrer",
        "tilgangsstyring-enkeltinstanser",
    ] {
        let p = catalogue().package(code).unwrap();
        assert!(p.is_assignable && !p.is_delegable, "{code}");
        assert!(!p.is_available_for_service_owners, "{code}");
    }
}

// ----- role → package table -----

#[test]
fn full_key_roles_have_all_three_admin_packages() {
    for role in ["DAGL", "LEDE", "INNH", "DTSO", "DTPR", "BOBE"] {
        for package in [
            "tilgangsstyrer",
            "klientadministrator",
            "hovedadministrator",
        ] {
            assert_eq!(row(role, package), Some((true, true)), "{role} {package}");
        }
    }
}

#[test]
fn komp_and_best_lack_hovedadministrator() {
    for role in ["KOMP", "BEST"] {
        assert_eq!(row(role, "tilgangsstyrer"), Some((true, true)), "{role}");
        assert_eq!(
            row(role, "klientadministrator"),
            Some((true, true)),
            "{role}"
        );
        assert_eq!(row(role, "hovedadministrator"), None, "{role}");
    }
}

#[test]
fn knuf_and_repr_get_tilgangsstyrer_only() {
    for role in ["KNUF", "REPR"] {
        assert_eq!(row(role, "tilgangsstyrer"), Some((true, true)), "{role}");
        assert_eq!(row(role, "klientadministrator"), None, "{role}");
        assert_eq!(row(role, "hovedadministrator"), None, "{role}");
        assert_eq!(row(role, "tjenester-nuf"), Some((true, true)), "{role}");
    }
}

#[test]
fn regn_gives_exactly_the_three_accountant_packages_without_delegation() {
    let rows = catalogue().packages_for_role("REGN", None).unwrap();
    let got: HashSet<(&str, bool, bool)> = rows
        .iter()
        .map(|r| (r.package.code.as_str(), r.has_access, r.can_delegate))
        .collect();
    let want: HashSet<(&str, bool, bool)> = [
        ("regnskapsforer-med-signeringsrettighet", true, false),
        ("regnskapsforer-uten-signeringsrettighet", true, false),
        ("regnskapsforer-lonn", true, false),
    ]
    .into_iter()
    .collect();
    assert_eq!(got, want);
}

#[test]
fn revi_gives_the_auditor_packages() {
    let rows = catalogue().packages_for_role("revisor", None).unwrap();
    let got: HashSet<&str> = rows.iter().map(|r| r.package.code.as_str()).collect();
    assert_eq!(
        got,
        ["ansvarlig-revisor", "revisormedarbeider"]
            .into_iter()
            .collect()
    );
}

#[test]
fn ffor_gives_forretningsforer_eiendom_only_for_esek_and_brl() {
    let has = |variant: &str| {
        catalogue()
            .packages_for_role("FFØR", Some(variant))
            .unwrap()
            .iter()
            .any(|r| r.package.code == "forretningsforer-eiendom")
    };
    assert!(has("ESEK") && has("brl"));
    assert!(!has("AS") && !has("NUF"));
    let nuf = catalogue().packages_for_role("FFØR", Some("NUF")).unwrap();
    assert!(
        nuf.iter()
            .any(|r| r.package.code == "ffor-tilgangsstyrer-nuf")
    );
    assert_eq!(
        catalogue()
            .packages_for_role("FFØR", Some("XYZ"))
            .unwrap_err(),
        LookupError::UnknownEntityVariant("XYZ".into())
    );
}

#[test]
fn a3_hovedadministrator_may_delegate_but_has_no_access() {
    let rows = catalogue()
        .packages_for_role("urn:altinn:role:hovedadministrator", None)
        .unwrap();
    assert_eq!(rows.len(), 135);
    assert!(rows.iter().all(|r| !r.has_access && r.can_delegate));
    assert_eq!(
        row("hovedadministrator", "tilgangsstyrer"),
        Some((false, true))
    );
    assert_eq!(row("hovedadministrator", "hovedadministrator"), None);
}

#[test]
fn role_package_rows_serialize_with_reference_names() {
    let rows = catalogue().packages_for_role("REGN", None).unwrap();
    let json = serde_json::to_value(&rows[0]).unwrap();
    assert_eq!(json["hasAccess"], true);
    assert_eq!(json["canDelegate"], false);
    assert_eq!(json["role"]["code"], "regnskapsforer");
    assert!(
        json["package"]["urn"]
            .as_str()
            .unwrap()
            .starts_with("urn:altinn:accesspackage:")
    );
}

// ----- the demo cast -----

#[test]
fn pia_as_dagl_holds_and_may_delegate_skatt_naering() {
    let facts = demo_facts();
    let pia = packages_held(catalogue(), PIA, ROR_OG_VANN, &facts).unwrap();
    let skatt = held(&pia, "skatt-naering");
    assert!(skatt.can_delegate);
    assert_eq!(
        skatt.via[0].grant,
        Some(Grant::RolePackage {
            role: "daglig-leder".into()
        })
    );
    assert!(codes(&pia).contains("tilgangsstyrer"));
    assert!(held(&pia, "tilgangsstyrer").can_delegate);
    // DAGL's role packages, and nothing that needs another role.
    assert_eq!(
        pia.len(),
        catalogue()
            .packages_for_role("DAGL", Some("AS"))
            .unwrap()
            .len()
    );
    assert!(!codes(&pia).contains("regnskapsforer-lonn"));

    let check = can_delegate(catalogue(), PIA, ROR_OG_VANN, "skatt-naering", &facts).unwrap();
    assert!(check.result);
    let reasons = descriptions(&check.reasons);
    assert!(reasons.contains(&"Direct-RolePackage"), "{reasons:?}");
    assert!(
        reasons.contains(&"Direct-RolePackage-HovedAdmin"),
        "{reasons:?}"
    );
}

#[test]
fn ola_without_a_role_holds_nothing_and_may_not_delegate() {
    let facts = demo_facts();
    assert!(
        packages_held(catalogue(), OLA, ROR_OG_VANN, &facts)
            .unwrap()
            .is_empty()
    );
    let check = can_delegate(catalogue(), OLA, ROR_OG_VANN, "skatt-naering", &facts).unwrap();
    assert!(!check.result);
    assert_eq!(descriptions(&check.reasons), vec!["NoAccess"]);
    assert_eq!(check.package.urn, "urn:altinn:accesspackage:skatt-naering");
}

#[test]
fn ola_holds_skatt_naering_after_a_b2b_delegation_but_may_not_pass_it_on() {
    let facts = demo_facts().with_delegation(
        ROR_OG_VANN,
        OLA,
        "urn:altinn:accesspackage:skatt-naering",
        false,
    );
    let ola = packages_held(catalogue(), OLA, ROR_OG_VANN, &facts).unwrap();
    assert_eq!(codes(&ola), ["skatt-naering"].into_iter().collect());
    assert!(!ola[0].can_delegate);
    assert_eq!(descriptions(&ola[0].via), vec!["Direct-AssignmentPackage"]);
    let check = can_delegate(catalogue(), OLA, ROR_OG_VANN, "skatt-naering", &facts).unwrap();
    assert!(!check.result);
    assert_eq!(descriptions(&check.reasons), vec!["NoAccess"]);
}

#[test]
fn a_delegation_that_allows_it_lets_the_receiver_delegate() {
    let facts = demo_facts().with_delegation(ROR_OG_VANN, OLA, "skatt-naering", true);
    let check = can_delegate(catalogue(), OLA, ROR_OG_VANN, "skatt-naering", &facts).unwrap();
    assert!(check.result);
    assert_eq!(
        descriptions(&check.reasons),
        vec!["Direct-AssignmentPackage"]
    );
}

#[test]
fn tina_inherits_the_accountant_packages_through_her_key_role() {
    let facts = demo_facts();
    let tina = packages_held(catalogue(), TINA, ROR_OG_VANN, &facts).unwrap();
    assert_eq!(
        codes(&tina),
        [
            "regnskapsforer-med-signeringsrettighet",
            "regnskapsforer-uten-signeringsrettighet",
            "regnskapsforer-lonn",
        ]
        .into_iter()
        .collect()
    );
    let signing = held(&tina, "regnskapsforer-med-signeringsrettighet");
    assert!(!signing.can_delegate);
    let reason = &signing.via[0];
    assert_eq!(reason.description, "KeyRole-RolePackage");
    assert_eq!(
        reason.grant,
        Some(Grant::RolePackage {
            role: "regnskapsforer".into()
        })
    );
    assert_eq!(
        reason.via,
        Some(KeyRoleLink {
            org: TALLMAKERNE,
            key_role: "daglig-leder".into()
        })
    );
    assert_eq!(
        (reason.from, reason.to),
        (Some(ROR_OG_VANN), Some(TALLMAKERNE))
    );
    // Not assignable, and REGN cannot delegate: the check says no.
    let check = can_delegate(
        catalogue(),
        TINA,
        ROR_OG_VANN,
        "regnskapsforer-lonn",
        &facts,
    )
    .unwrap();
    assert!(!check.result);
    // Tina still holds everything of her own company.
    let own = packages_held(catalogue(), TINA, TALLMAKERNE, &facts).unwrap();
    assert!(codes(&own).contains("skatt-naering"));
}

// ----- inheritance rules -----

#[test]
fn a_key_role_holder_inherits_packages_delegated_to_the_org() {
    let facts = demo_facts().with_delegation(ROR_OG_VANN, TALLMAKERNE, "a-ordning", true);
    let tina = packages_held(catalogue(), TINA, ROR_OG_VANN, &facts).unwrap();
    let a_ordning = held(&tina, "a-ordning");
    assert!(a_ordning.can_delegate);
    assert_eq!(
        descriptions(&a_ordning.via),
        vec!["KeyRole-AssignmentPackage"]
    );
    let check = can_delegate(catalogue(), TINA, ROR_OG_VANN, "a-ordning", &facts).unwrap();
    assert!(check.result);
}

#[test]
fn a_non_key_role_does_not_inherit() {
    // A board member (MEDL) of Tallmakerne is not a key role.
    let facts = demo_facts().with_role(TALLMAKERNE, OLA, "MEDL");
    assert!(
        packages_held(catalogue(), OLA, ROR_OG_VANN, &facts)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn roles_in_the_main_unit_count_for_its_sub_units() {
    let sub_unit = Uuid::from_u128(0xB1);
    let facts = demo_facts().with_org(sub_unit, "BEDR", Some(ROR_OG_VANN));
    let pia = packages_held(catalogue(), PIA, sub_unit, &facts).unwrap();
    let skatt = held(&pia, "skatt-naering");
    assert_eq!(
        descriptions(&skatt.via),
        vec!["Direct-RolePackage-MainUnit"]
    );
    assert_eq!(skatt.via[0].main_unit, Some(ROR_OG_VANN));
    assert!(
        can_delegate(catalogue(), PIA, sub_unit, "skatt-naering", &facts)
            .unwrap()
            .result
    );

    let tina = packages_held(catalogue(), TINA, sub_unit, &facts).unwrap();
    let lonn = held(&tina, "regnskapsforer-lonn");
    assert_eq!(
        descriptions(&lonn.via),
        vec!["KeyRole-RolePackage-MainUnit"]
    );
}

#[test]
fn variant_limited_rows_follow_the_organisation_form() {
    let esek = Uuid::from_u128(0xC1);
    let as_company = Uuid::from_u128(0xC2);
    let facts = demo_facts()
        .with_org(esek, "ESEK", None)
        .with_org(as_company, "AS", None)
        .with_role(esek, TALLMAKERNE, "FFØR")
        .with_role(as_company, TALLMAKERNE, "FFØR");
    let for_esek = packages_held(catalogue(), TINA, esek, &facts).unwrap();
    assert_eq!(
        codes(&for_esek),
        ["forretningsforer-eiendom"].into_iter().collect()
    );
    assert!(
        packages_held(catalogue(), TINA, as_company, &facts)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn the_a3_hovedadministrator_role_lets_the_holder_delegate_without_access() {
    let facts = demo_facts().with_role(ROR_OG_VANN, OLA, "urn:altinn:role:hovedadministrator");
    assert!(
        packages_held(catalogue(), OLA, ROR_OG_VANN, &facts)
            .unwrap()
            .is_empty()
    );
    let check = can_delegate(catalogue(), OLA, ROR_OG_VANN, "skatt-naering", &facts).unwrap();
    assert!(check.result);
    assert_eq!(descriptions(&check.reasons), vec!["Direct-RolePackage"]);
    assert!(!check.reasons[0].has_access);
}

#[test]
fn a_directly_delegated_hovedadministrator_package_gives_hovedadmin_rights_only() {
    let facts = demo_facts().with_delegation(ROR_OG_VANN, OLA, "hovedadministrator", true);
    let own = can_delegate(catalogue(), OLA, ROR_OG_VANN, "hovedadministrator", &facts).unwrap();
    assert!(
        !own.result,
        "the package itself passes on only through a role"
    );
    let skatt = can_delegate(catalogue(), OLA, ROR_OG_VANN, "skatt-naering", &facts).unwrap();
    assert!(skatt.result);
    assert_eq!(
        descriptions(&skatt.reasons),
        vec!["Direct-AssignmentPackage-HovedAdmin"]
    );
}

#[test]
fn er_only_packages_never_pass_the_delegation_check() {
    let facts = demo_facts().with_delegation(ROR_OG_VANN, OLA, "regnskapsforer-lonn", true);
    let check = can_delegate(catalogue(), OLA, ROR_OG_VANN, "regnskapsforer-lonn", &facts).unwrap();
    assert!(!check.result);
    assert_eq!(descriptions(&check.reasons), vec!["NoAccess"]);
}

#[test]
fn unknown_names_are_errors_not_denials() {
    let facts = demo_facts();
    assert_eq!(
        can_delegate(catalogue(), PIA, ROR_OG_VANN, "skattnaering", &facts).unwrap_err(),
        LookupError::UnknownPackage("skattnaering".into())
    );
    let bad = demo_facts().with_role(ROR_OG_VANN, OLA, "sjef");
    assert_eq!(
        packages_held(catalogue(), OLA, ROR_OG_VANN, &bad).unwrap_err(),
        LookupError::UnknownRole("sjef".into())
    );
}

#[test]
fn facts_are_usable_as_a_trait_object() {
    let facts: Box<dyn RoleFacts> = Box::new(demo_facts());
    let pia = packages_held(catalogue(), PIA, ROR_OG_VANN, facts.as_ref()).unwrap();
    assert!(!pia.is_empty());
    assert_eq!(facts.roles_between(ROR_OG_VANN, TALLMAKERNE).len(), 1);
}

// ----- a person acting for themselves -----

#[test]
fn a_person_acting_for_themselves_is_privatperson_with_its_packages() {
    let role = own_party_role(PIA, PIA, true).unwrap();
    assert_eq!((role.from, role.to), (PIA, PIA));
    assert_eq!(
        catalogue().role(&role.role).unwrap().legacy_code.as_deref(),
        Some("priv")
    );
    let facts = InMemoryFacts::default().with_role(role.from, role.to, &role.role);
    let held = packages_held(catalogue(), PIA, PIA, &facts).unwrap();
    let codes = codes(&held);
    assert!(
        codes.contains("innbygger-skatteforhold-privatpersoner"),
        "{codes:?}"
    );
    assert!(
        codes.iter().all(|c| c.starts_with("innbygger-")),
        "{codes:?}"
    );
    // The Altinn 2 roles PRIV implies, as the reference's role map gives them.
    let implied: Vec<&str> = catalogue()
        .implied_roles(&role.role)
        .unwrap()
        .iter()
        .map(|r| r.code.as_str())
        .collect();
    assert!(
        implied.contains(&"admai") && implied.contains(&"regna"),
        "{implied:?}"
    );
}

#[test]
fn nobody_else_holds_a_role_for_a_party_by_being_it() {
    // An organisation acting for itself, and a person acting for someone else.
    assert_eq!(own_party_role(ROR_OG_VANN, ROR_OG_VANN, false), None);
    assert_eq!(own_party_role(PIA, OLA, true), None);
}
