//! The benchmark in a tiny mode, so that it keeps working. It asserts what
//! the report says, not how fast anything is.

use std::process::Command;

#[test]
fn tiny_benchmark_reports_every_case_with_all_articles_handled() {
    let output = Command::new(env!("CARGO_BIN_EXE_article-ingest"))
        .args(["bench", "--articles", "150", "--runs", "1"])
        .args(["--corpus", "/dev/null"])
        .output()
        .expect("run the benchmark");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for case in [
        "ceiling (passthrough)",
        "worker",
        "worker x2",
        "worker, 30% duplicates",
    ] {
        let row = report
            .lines()
            .find(|l| l.starts_with(&format!("| {case} |")))
            .unwrap_or_else(|| panic!("no row for {case}:\n{report}"));
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let (published, duplicates) = cells[9].split_once(" / ").expect("published / duplicates");
        let handled: u64 = published.parse::<u64>().unwrap() + duplicates.parse::<u64>().unwrap();
        assert_eq!(handled, 150, "{case}: every article gets a verdict: {row}");
        assert!(
            cells[2].parse::<f64>().unwrap() > 0.0,
            "{case}: a rate: {row}"
        );
    }
    let ceiling_row = report.lines().find(|l| l.starts_with("| ceiling")).unwrap();
    assert!(
        ceiling_row.contains("| 150 / 0 |"),
        "passthrough ids are all distinct: {ceiling_row}"
    );
}
