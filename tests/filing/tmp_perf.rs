#[test]
#[allow(clippy::disallowed_methods)]
fn perf() {
    use minuted::ingest::parse::{self, Limits, Parsed};
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/examples/lcjb.toml");
    let registry = minuted::filing::Registry::from_file(&minuted::registry::load(&path).unwrap());
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eml");
    let mut names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "eml")).collect();
    names.sort();
    for p in names {
        let raw = std::fs::read(&p).unwrap();
        let t = std::time::Instant::now();
        let parsed = match parse::parse(&raw, &Limits::default()) { Parsed::Complete(p) => p, Parsed::Unparseable { headers, .. } => headers };
        let t1 = t.elapsed();
        let m = minuted::filer::to_filing(&parsed);
        let t2 = t.elapsed();
        for _ in 0..10 { let _ = minuted::filing::decide(&m, &registry, &Default::default(), chrono::Utc::now(), 0.7); }
        let t3 = (t.elapsed() - t2) / 10;
        println!("{:40} parse {:>8.2?} convert {:>8.2?} decide {:>8.2?}", p.file_name().unwrap().to_string_lossy(), t1, t2 - t1, t3);
    }
}
