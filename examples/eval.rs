//! Evaluation and debugging runs of the cleaner (the worker's CLI wires `eval` too).
//!
//! ```text
//! cargo run --release --example eval -- eval [DEV.jsonl] [PRED.jsonl]   # P/R/F1 + predictions
//! cargo run --release --example eval -- ablation [DEV.jsonl]             # one stage off at a time
//! cargo run --release --example eval -- worst [DEV.jsonl] [N]            # worst documents
//! cargo run --release --example eval -- page DEV.jsonl ID_PREFIX         # verdicts on one page
//! cargo run --release --example eval -- explain FILE [URL]               # verdicts on a text file
//! cargo run --release --example eval -- dump [DEV.jsonl] [OUT]            # full output per page (regression check)
//! cargo run --release --example eval -- flattened [DEV.jsonl]            # the pages as one line each
//! ```
use std::path::PathBuf;

use article_ingest::clean::eval::{self, DEFAULT_DEV_PATH};
use article_ingest::clean::{CleanInput, Cleaner, Explained};

fn print_explained(e: &Explained, gold: Option<&str>) {
    println!("TITLE: {:?}", e.title);
    for s in &e.segments {
        let verdict = s.dropped.as_deref().unwrap_or("KEPT");
        // G: the segment's opening words are in the gold body (a rough marker for debugging).
        let in_gold = gold.map(|g| {
            let probe: String = s.text.chars().take(40).collect();
            if g.contains(probe.trim()) {
                "G"
            } else {
                " "
            }
        });
        let text: String = s.text.chars().take(130).collect();
        println!(
            "{} {verdict:>18} {:>8} | {text}",
            in_gold.unwrap_or(" "),
            s.class
        );
    }
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cmd = args.first().map(String::as_str).unwrap_or("eval");
    let dev = PathBuf::from(args.get(1).map(String::as_str).unwrap_or(DEFAULT_DEV_PATH));
    match cmd {
        "eval" => {
            let out = PathBuf::from(
                args.get(2)
                    .map(String::as_str)
                    .unwrap_or("/tmp/cleaner-predictions.jsonl"),
            );
            let report = eval::run(&dev, &out)?;
            println!("{}", report.summary());
            println!(
                "full precision: P={} R={} F1={}",
                report.precision, report.recall, report.f1
            );
            println!("predictions: {}", out.display());
        }
        "ablation" => {
            let base = Cleaner::builtin();
            for (name, opts) in eval::ablation_variants() {
                let r = eval::run_with(&base.with_options(opts), &dev, None)?;
                println!(
                    "{name:<24} P={:.3} R={:.3} F1={:.3}",
                    r.precision, r.recall, r.f1
                );
            }
        }
        "learning" => {
            // A block seen on this many other pages of the site is boilerplate
            // (the dev set has at most two pages per site, so 1 by default).
            let min: u32 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
            let pages = eval::load_pages(&dev)?;
            let r = eval::learning(&Cleaner::builtin(), &pages, min);
            println!(
                "pages with {min}+ other pages of their site: {} ({} changed by the model)",
                r.rules_only.n, r.changed
            );
            for (name, rep) in [("rules only", &r.rules_only), ("learned", &r.learned)] {
                println!(
                    "{name:<10} P={:.3} R={:.3} F1={:.3}",
                    rep.precision, rep.recall, rep.f1
                );
            }
            for (a, b) in r.rules_only.docs.iter().zip(&r.learned.docs) {
                if (a.f1() - b.f1()).abs() > 0.0005 {
                    println!(
                        "  {:.8} {:<45.45} F1 {:.3} -> {:.3} (P {:.2} -> {:.2}, R {:.2} -> {:.2})",
                        a.id,
                        a.url,
                        a.f1(),
                        b.f1(),
                        a.precision,
                        b.precision,
                        a.recall,
                        b.recall
                    );
                }
            }
        }
        "worst" => {
            let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(15);
            let mut r = eval::run_with(&Cleaner::builtin(), &dev, None)?;
            println!("{}", r.summary());
            r.docs.sort_by(|a, b| a.f1().total_cmp(&b.f1()));
            for d in r.docs.iter().take(n) {
                println!(
                    "{}  P={:.3} R={:.3}  {}",
                    &d.id[..d.id.len().min(12)],
                    d.precision,
                    d.recall,
                    d.url
                );
            }
        }
        "page" => {
            let prefix = args
                .get(2)
                .ok_or_else(|| anyhow::anyhow!("page DEV ID_PREFIX"))?;
            let pages = eval::load_pages(&dev)?;
            let page = pages
                .iter()
                .find(|p| p.id.starts_with(prefix.as_str()))
                .ok_or_else(|| anyhow::anyhow!("no page {prefix}"))?;
            let host = eval::host(&page.url);
            let input = page.input(host.as_deref());
            println!("URL: {}", page.url);
            print_explained(&Cleaner::builtin().explain(&input, None), Some(&page.gold));
        }
        "explain" => {
            let text = std::fs::read_to_string(&dev)?;
            let url = args.get(2).map(String::as_str);
            let input = CleanInput {
                text: &text,
                title: None,
                source: None,
                url,
            };
            print_explained(&Cleaner::builtin().explain(&input, None), None);
        }
        "dump" => {
            // Everything the cleaner returns for every page (title, paragraphs, language,
            // counts, block hashes): two dumps are byte-identical iff the output is.
            use std::io::Write;
            let out = args
                .get(2)
                .map(String::as_str)
                .unwrap_or("/tmp/cleaner-dump.txt");
            let pages = eval::load_pages(&dev)?;
            let cleaner = Cleaner::builtin();
            let mut f = std::io::BufWriter::new(std::fs::File::create(out)?);
            for p in &pages {
                let host = eval::host(&p.url);
                let input = p.input(host.as_deref());
                let c = cleaner.clean(&input);
                // As a set (what the learner makes of them), sorted for stable dumps.
                let mut hashes = cleaner.block_hashes(&input);
                hashes.sort_unstable();
                hashes.dedup();
                writeln!(
                    f,
                    "{} {:?} {:?} {} {} {:?}",
                    p.id, c.title, c.lang, c.segments_in, c.segments_removed, hashes
                )?;
                for para in &c.paragraphs {
                    writeln!(f, "  {para}")?;
                }
            }
            println!("dump: {out} ({} pages)", pages.len());
        }
        "flattened" => {
            // The pages as a scraper that drops line breaks sends them: what the
            // sentence splitter has to recover.
            let mut pages = eval::load_pages(&dev)?;
            let cleaner = Cleaner::builtin();
            let lined = eval::run_pages(&cleaner, &pages, None)?;
            for p in &mut pages {
                p.scraped_text = eval::flatten(&p.scraped_text);
            }
            let r = eval::run_pages(&cleaner, &pages, None)?;
            println!("flattened: {}", r.summary());
            // The pages that lose most against their lined form: what the
            // splitter fails to recover, not what the cleaner gets wrong anyway.
            let mut losses: Vec<(f64, f64, &eval::DocScore)> = r
                .docs
                .iter()
                .zip(&lined.docs)
                .map(|(flat, line)| (line.f1() - flat.f1(), line.f1(), flat))
                .collect();
            losses.sort_by(|a, b| b.0.total_cmp(&a.0));
            for (loss, line_f1, d) in losses.iter().take(10) {
                println!(
                    "  F1={:.3} (lined {line_f1:.3}, -{loss:.3})  {}  {}",
                    d.f1(),
                    &d.id[..d.id.len().min(12)],
                    d.url
                );
            }
        }
        "speed" => {
            // Single-threaded passes over all pages; later passes show the warmed-up speed.
            let pages = eval::load_pages(&dev)?;
            let mut cleaner = Cleaner::builtin();
            // Optional: a stage to switch off, to see what it costs (`speed DEV rules`).
            if let Some(stage) = args.get(2) {
                let variants = eval::ablation_variants();
                let (_, opts) = variants
                    .iter()
                    .find(|(name, _)| name.trim_start_matches("- ").starts_with(stage.as_str()))
                    .ok_or_else(|| anyhow::anyhow!("unknown stage {stage}"))?;
                cleaner = cleaner.with_options(*opts);
            }
            let hosts: Vec<Option<String>> = pages.iter().map(|p| eval::host(&p.url)).collect();
            // EVAL_SPEED_PASSES: fewer passes, e.g. under callgrind.
            let passes: usize = std::env::var("EVAL_SPEED_PASSES")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(20);
            for pass in 0..passes {
                let t = std::time::Instant::now();
                let mut kept = 0usize;
                for (p, h) in pages.iter().zip(&hosts) {
                    kept += cleaner.clean(&p.input(h.as_deref())).paragraphs.len();
                }
                let s = t.elapsed().as_secs_f64();
                println!(
                    "pass {pass}: {:.0} pages/s ({:.1} us/page, {kept} paragraphs)",
                    pages.len() as f64 / s,
                    s * 1e6 / pages.len() as f64
                );
            }
        }
        other => anyhow::bail!("unknown command {other}"),
    }
    Ok(())
}
