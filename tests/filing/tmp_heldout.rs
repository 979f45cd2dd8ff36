#[test]
fn heldout() {
    use minuted::ingest::parse::{self, Limits, Parsed};
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/examples/lcjb.toml");
    let registry = minuted::filing::Registry::from_file(&minuted::registry::load(&path).unwrap());
    let exp: serde_json::Value = serde_json::from_str(&std::fs::read_to_string("/tmp/heldout/expected.json").unwrap()).unwrap();
    let mut ok = 0; let mut total = 0;
    let mut names: Vec<_> = exp.as_object().unwrap().keys().cloned().collect(); names.sort();
    for name in names {
        let e = &exp[&name];
        let raw = std::fs::read(format!("/tmp/heldout/{name}.eml")).unwrap();
        let parsed = match parse::parse(&raw, &Limits::default()) { Parsed::Complete(p) => p, Parsed::Unparseable { headers, .. } => headers };
        let received = chrono::DateTime::parse_from_rfc3339("2026-11-23T10:00:00Z").unwrap().with_timezone(&chrono::Utc);
        let at = minuted::filer::judged_at(parsed.sent_at, received);
        let d = minuted::filing::decide(&minuted::filer::to_filing(&parsed), &registry, &Default::default(), at, 0.7);
        total += 1;
        let good = d.kind.as_str() == e[0].as_str().unwrap() && d.meeting.as_deref() == e[1].as_str() && d.organisation.as_deref() == e[2].as_str();
        let filed_ok = if d.kind.as_str() == "unrelated" { true } else { d.disposition == minuted::filing::Disposition::Filed };
        if good && filed_ok { ok += 1; } else {
            println!("MISS {name}: expected {e} got {} {:?} {:?} {:?} {}\n   {:#?}", d.kind, d.meeting, d.organisation, d.disposition, d.confidence, d.reasons);
        }
    }
    println!("{ok}/{total}");
}
