//! Checks the deployment files against the code: every setting they name
//! exists, every path they mount exists, and the timings and probes agree
//! with the worker's configuration. No Docker or Kubernetes needed.

use std::path::PathBuf;

use article_ingest::config::Settings;
use serde::Deserialize;
use serde_yaml::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(relative: &str) -> String {
    let path = repo().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {relative}: {e}"))
}

fn yaml_docs(relative: &str) -> Vec<Value> {
    let text = read(relative);
    serde_yaml::Deserializer::from_str(&text)
        .map(|doc| {
            Value::deserialize(doc).unwrap_or_else(|e| panic!("{relative} is not valid YAML: {e}"))
        })
        .filter(|doc| !doc.is_null())
        .collect()
}

fn compose() -> Value {
    let mut docs = yaml_docs("docker-compose.yml");
    assert_eq!(
        docs.len(),
        1,
        "docker-compose.yml must be one YAML document"
    );
    docs.remove(0)
}

fn k8s_files() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(repo().join("deploy/k8s"))
        .expect("deploy/k8s exists")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".yaml") || name.ends_with(".yml"))
        .map(|name| format!("deploy/k8s/{name}"))
        .collect();
    files.sort();
    files
}

fn k8s_docs() -> Vec<Value> {
    k8s_files().iter().flat_map(|f| yaml_docs(f)).collect()
}

fn k8s_kind(kind: &str) -> Value {
    let mut found: Vec<Value> = k8s_docs()
        .into_iter()
        .filter(|doc| doc["kind"].as_str() == Some(kind))
        .collect();
    assert_eq!(found.len(), 1, "expected exactly one {kind} in deploy/k8s");
    found.remove(0)
}

fn defaults() -> Settings {
    Settings::load_from(None, Vec::new()).expect("config/default.toml loads")
}

fn production_toml() -> PathBuf {
    repo().join("deploy/config/production.toml")
}

/// `ARTICLE_INGEST__SECTION__FIELD` names in a text, with duplicates removed.
fn setting_vars(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("ARTICLE_INGEST__") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(tail.len());
        let name = &tail[..end];
        // Skip the generic `ARTICLE_INGEST__<SECTION>__<FIELD>` in prose.
        if name.len() > "ARTICLE_INGEST__".len() && !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
        rest = &tail[end.max(1)..];
    }
    names
}

/// Whether `name` is a setting: some plausible value loads without error.
fn is_setting(name: &str) -> Result<(), String> {
    let candidates = ["1", "1048576", "true", "json", "nats://127.0.0.1:4222"];
    let mut errors = Vec::new();
    for value in candidates {
        match Settings::load_from(None, vec![(name.to_string(), value.to_string())]) {
            Ok(_) => return Ok(()),
            Err(e) => {
                let e = format!("{e:#}");
                if !errors.contains(&e) {
                    errors.push(e);
                }
            }
        }
    }
    Err(errors.join(" | "))
}

/// Parses Compose and Kubernetes durations like "30s", "1m30s", "90".
fn seconds(duration: &str) -> u64 {
    let mut total = 0;
    let mut number = String::new();
    for c in duration.trim().chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let n: u64 = number.parse().expect("a number before each unit");
        number.clear();
        total += match c {
            'h' => n * 3600,
            'm' => n * 60,
            's' => n,
            other => panic!("unsupported duration unit {other:?} in {duration:?}"),
        };
    }
    if !number.is_empty() {
        total += number.parse::<u64>().unwrap();
    }
    total
}

fn env_pairs_of_compose_service(service: &Value) -> Vec<(String, String)> {
    match &service["environment"] {
        Value::Mapping(map) => map
            .iter()
            .map(|(k, v)| {
                let value = match v {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    other => panic!("unsupported environment value {other:?}"),
                };
                (k.as_str().unwrap().to_string(), value)
            })
            .collect(),
        Value::Sequence(items) => items
            .iter()
            .map(|item| {
                let item = item.as_str().expect("KEY=VALUE");
                let (k, v) = item.split_once('=').expect("KEY=VALUE");
                (k.to_string(), v.to_string())
            })
            .collect(),
        Value::Null => Vec::new(),
        other => panic!("unsupported environment {other:?}"),
    }
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_sequence()
        .map(|items| {
            items
                .iter()
                .map(|i| i.as_str().expect("a string").to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The value after `--config` in an argument list.
fn config_arg(args: &[String]) -> Option<String> {
    args.iter()
        .position(|a| a == "--config")
        .and_then(|i| args.get(i + 1).cloned())
}

#[test]
fn production_toml_loads_and_sets_what_deployments_rely_on() {
    let settings = Settings::load_from(Some(&production_toml()), Vec::new())
        .expect("deploy/config/production.toml loads over the defaults");
    assert_eq!(
        settings.log.format,
        article_ingest::config::LogFormat::Json,
        "production logs are JSON"
    );
    assert!(
        settings.metrics.addr.ends_with(":9090"),
        "metrics.addr {:?} must be on 9090, the port the Dockerfile exposes and the probes use",
        settings.metrics.addr
    );
    assert_eq!(settings.streams.replicas, 1, "replicas 3 stays commented");
    assert!(read("deploy/config/production.toml").contains("# replicas = 3"));
}

#[test]
fn every_setting_variable_named_in_deployment_files_exists() {
    let mut files = vec![
        "docker-compose.yml".to_string(),
        "deploy/Dockerfile".to_string(),
        "deploy/README.md".to_string(),
        "deploy/k8s/nats-cluster.md".to_string(),
    ];
    files.extend(k8s_files());
    for entry in std::fs::read_dir(repo().join("deploy/systemd")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        files.push(format!("deploy/systemd/{name}"));
    }
    let mut checked = 0;
    let mut unknown = Vec::new();
    for file in &files {
        for name in setting_vars(&read(file)) {
            checked += 1;
            if let Err(e) = is_setting(&name) {
                unknown.push(format!("{file}: {name}: {e}"));
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "unknown settings:\n{}",
        unknown.join("\n")
    );
    // The scan itself must work: these files name at least this many.
    assert!(checked >= 12, "only {checked} variables found");
    // And it must be able to fail.
    assert!(is_setting("ARTICLE_INGEST__WORKER__MAX_INFLIGHT").is_err());
    assert!(is_setting("ARTICLE_INGEST__NATS__URLL").is_err());
}

#[test]
fn dockerfile_builds_a_small_non_root_image() {
    let dockerfile = read("deploy/Dockerfile");
    let stages: Vec<&str> = dockerfile
        .lines()
        .filter(|l| l.trim_start().to_ascii_uppercase().starts_with("FROM "))
        .collect();
    assert_eq!(stages.len(), 2, "builder and runtime stages: {stages:?}");
    assert!(stages[0].contains("rust:1-bookworm"), "{}", stages[0]);
    assert!(stages[1].contains("debian:bookworm-slim"), "{}", stages[1]);
    let runtime = &dockerfile[dockerfile.rfind("\nFROM ").unwrap()..];
    for needed in [
        "ENTRYPOINT [\"article-ingest\"]",
        "CMD [\"run\"]",
        "EXPOSE 9090",
        "COPY config/ /etc/article-ingest/",
        "ARTICLE_INGEST__LOG__FORMAT=json",
        "ARTICLE_INGEST__METRICS__ADDR=0.0.0.0:9090",
    ] {
        assert!(runtime.contains(needed), "runtime stage lacks {needed}");
    }
    let user = runtime
        .lines()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("a USER line");
    assert!(
        !user.starts_with("root") && !user.starts_with("0"),
        "USER {user}"
    );
    assert!(
        runtime.contains("--no-install-recommends ca-certificates"),
        "only ca-certificates is installed at run time"
    );
    // Every COPY source from the build context exists.
    for line in dockerfile.lines() {
        let line = line.trim();
        if let Some(args) = line.strip_prefix("COPY ") {
            if args.starts_with("--from") {
                continue;
            }
            let parts: Vec<&str> = args.split_whitespace().collect();
            for source in &parts[..parts.len() - 1] {
                assert!(repo().join(source).exists(), "COPY source {source} missing");
            }
        }
    }
    // The ENV values load as settings.
    let env: Vec<(String, String)> = runtime
        .split_whitespace()
        .filter_map(|word| word.split_once('='))
        .filter(|(k, _)| k.starts_with("ARTICLE_INGEST__"))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(env.len(), 2, "{env:?}");
    Settings::load_from(None, env).expect("the Dockerfile's ENV loads");
}

#[test]
fn compose_file_is_consistent() {
    let compose = compose();
    let services = &compose["services"];
    let drain = defaults().worker.drain_timeout_secs;

    let nats = &services["nats"];
    let image = nats["image"].as_str().expect("nats image");
    assert!(image.starts_with("nats:"), "{image}");
    let command = strings(&nats["command"]).join(" ");
    for flag in ["-js", "-sd /data", "-m 8222"] {
        assert!(
            command.contains(flag),
            "nats command lacks {flag}: {command}"
        );
    }
    let health = strings(&nats["healthcheck"]["test"]).join(" ");
    assert!(
        health.contains("wget") && health.contains(":8222/healthz?js-enabled-only=true"),
        "{health}"
    );

    let worker = &services["worker"];
    let build = &worker["build"];
    let context = repo().join(build["context"].as_str().expect("build.context"));
    let dockerfile = context.join(build["dockerfile"].as_str().expect("build.dockerfile"));
    assert!(dockerfile.is_file(), "{} missing", dockerfile.display());
    assert_eq!(
        worker["deploy"]["replicas"].as_u64(),
        Some(2),
        "two workers"
    );
    assert_eq!(
        worker["depends_on"]["nats"]["condition"].as_str(),
        Some("service_healthy")
    );
    let grace = seconds(
        worker["stop_grace_period"]
            .as_str()
            .expect("stop_grace_period"),
    );
    assert!(
        grace > drain,
        "stop_grace_period {grace}s must exceed drain_timeout_secs {drain}"
    );
    let health = strings(&worker["healthcheck"]["test"]).join(" ");
    assert!(
        health.contains("/healthz") && health.contains("9090"),
        "{health}"
    );

    // The config file passed with --config is one the service mounts.
    let args = strings(&worker["command"]);
    assert_eq!(args.first().map(String::as_str), Some("run"));
    let config_path = config_arg(&args).expect("worker runs with --config");
    let mounts = strings(&worker["volumes"]);
    let mount = mounts
        .iter()
        .find(|m| m.split(':').nth(1) == Some(config_path.as_str()))
        .unwrap_or_else(|| panic!("{config_path} is not mounted: {mounts:?}"));
    assert!(
        mount.starts_with("./deploy/config/production.toml:"),
        "{mount}"
    );

    // The worker's environment and config file load together, and reach NATS
    // by its service name.
    let env = env_pairs_of_compose_service(worker);
    assert!(
        env.iter()
            .any(|(k, v)| k == "NATS_URL" && v == "nats://nats:4222"),
        "{env:?}"
    );
    let settings = Settings::load_from(Some(&production_toml()), env)
        .expect("the worker's compose environment loads");
    assert_eq!(settings.nats.url, "nats://nats:4222");
    assert!(settings.metrics.addr.ends_with(":9090"));
    assert!(grace > settings.worker.drain_timeout_secs);

    // The one-shot feeder.
    let feed = &services["feed"];
    assert_eq!(strings(&feed["profiles"]), vec!["feed".to_string()]);
    assert_eq!(
        strings(&feed["command"]),
        ["feed", "--nats-url", "nats://nats:4222", "/seeds"]
    );
    assert!(strings(&feed["volumes"]).contains(&"./tests/fixtures/seeds:/seeds:ro".to_string()));

    // Every host path in the file exists in the repository.
    let mut host_paths = Vec::new();
    for (_, service) in services.as_mapping().unwrap() {
        for volume in strings(&service["volumes"]) {
            let host = volume.split(':').next().unwrap();
            if host.starts_with("./") || host.starts_with("../") {
                host_paths.push(host.to_string());
            }
        }
        if let Some(context) = service["build"]["context"].as_str() {
            host_paths.push(context.to_string());
        }
    }
    assert!(host_paths.len() >= 3, "{host_paths:?}");
    for host in host_paths {
        assert!(
            repo().join(&host).exists(),
            "{host} (mounted in docker-compose.yml) does not exist"
        );
    }
    // Named volumes are declared.
    for volume in strings(&nats["volumes"]) {
        let source = volume.split(':').next().unwrap();
        if !source.starts_with('.') && !source.starts_with('/') {
            assert!(
                compose["volumes"]
                    .as_mapping()
                    .is_some_and(|m| m.contains_key(source)),
                "named volume {source} is not declared under volumes:"
            );
        }
    }
}

#[test]
fn kubernetes_manifests_are_consistent() {
    let docs = k8s_docs();
    for doc in &docs {
        assert!(doc["apiVersion"].is_string() && doc["kind"].is_string());
        assert!(
            doc["metadata"]["namespace"].is_null(),
            "manifests are namespace-less: {:?}",
            doc["metadata"]["name"]
        );
    }
    let deployment = k8s_kind("Deployment");
    let spec = &deployment["spec"];
    assert_eq!(spec["replicas"].as_u64(), Some(2));
    let pod = &spec["template"]["spec"];
    let labels = &spec["template"]["metadata"]["labels"];
    for (key, value) in spec["selector"]["matchLabels"].as_mapping().unwrap() {
        assert_eq!(
            &labels[key.as_str().unwrap()],
            value,
            "selector matches pods"
        );
    }

    let container = &pod["containers"][0];
    let args = strings(&container["args"]);
    let config_path = config_arg(&args).expect("the worker runs with --config");

    // Settings as the pod sees them: the ConfigMap's file and the env.
    let configmap = k8s_kind("ConfigMap");
    let file_text = configmap["data"]["production.toml"]
        .as_str()
        .expect("ConfigMap holds production.toml");
    assert_eq!(
        file_text,
        read("deploy/config/production.toml"),
        "the ConfigMap's production.toml must equal deploy/config/production.toml"
    );
    let env: Vec<(String, String)> = container["env"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|e| Some((e["name"].as_str()?.into(), e["value"].as_str()?.into())))
        .collect();
    assert!(env.iter().any(|(k, _)| k == "NATS_URL"), "{env:?}");
    let settings = Settings::load_from(Some(&production_toml()), env)
        .expect("the Deployment's environment loads");

    let drain = settings.worker.drain_timeout_secs;
    assert_eq!(drain, defaults().worker.drain_timeout_secs);
    let grace = pod["terminationGracePeriodSeconds"]
        .as_u64()
        .expect("terminationGracePeriodSeconds");
    assert!(
        grace > drain,
        "terminationGracePeriodSeconds {grace} must exceed drain_timeout_secs {drain}"
    );

    // Probes hit the metrics port the worker listens on.
    let metrics_port: u64 = settings
        .metrics
        .addr
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let ports = container["ports"].as_sequence().unwrap();
    let port_of = |port: &Value| -> u64 {
        match port {
            Value::Number(n) => n.as_u64().unwrap(),
            Value::String(name) => ports
                .iter()
                .find(|p| p["name"].as_str() == Some(name))
                .and_then(|p| p["containerPort"].as_u64())
                .unwrap_or_else(|| panic!("no container port named {name}")),
            other => panic!("bad port {other:?}"),
        }
    };
    for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
        let get = &container[probe]["httpGet"];
        assert_eq!(get["path"].as_str(), Some(path), "{probe}");
        assert_eq!(port_of(&get["port"]), metrics_port, "{probe} port");
    }
    for kind in ["requests", "limits"] {
        let r = &container["resources"][kind];
        assert!(r["cpu"].is_string() && r["memory"].is_string(), "{kind}");
    }
    assert_eq!(pod["securityContext"]["runAsNonRoot"].as_bool(), Some(true));
    let csc = &container["securityContext"];
    assert_eq!(csc["readOnlyRootFilesystem"].as_bool(), Some(true));
    assert_eq!(csc["allowPrivilegeEscalation"].as_bool(), Some(false));

    // --config names the mounted ConfigMap file.
    let mount = container["volumeMounts"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|m| m["mountPath"].as_str() == Some(config_path.as_str()))
        .unwrap_or_else(|| panic!("{config_path} is not mounted"));
    let volume = pod["volumes"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|v| v["name"] == mount["name"])
        .expect("the mount's volume");
    assert_eq!(
        volume["configMap"]["name"], configmap["metadata"]["name"],
        "the config volume is the ConfigMap"
    );
    assert_eq!(mount["subPath"].as_str(), Some("production.toml"));

    // The Secret the Deployment reads exists as a template.
    let secret = k8s_kind("Secret");
    let from = container["envFrom"][0]["secretRef"]["name"].as_str();
    assert_eq!(from, secret["metadata"]["name"].as_str());
    for (key, _) in secret["stringData"].as_mapping().unwrap() {
        let key = key.as_str().unwrap();
        assert!(is_setting(key).is_ok(), "Secret key {key} is not a setting");
    }

    // The PodDisruptionBudget and the Service select the worker pods.
    for kind in ["PodDisruptionBudget", "Service"] {
        let doc = k8s_kind(kind);
        let selector = if kind == "Service" {
            &doc["spec"]["selector"]
        } else {
            &doc["spec"]["selector"]["matchLabels"]
        };
        for (key, value) in selector.as_mapping().unwrap() {
            assert_eq!(&labels[key.as_str().unwrap()], value, "{kind} selector");
        }
    }
}

#[test]
fn systemd_unit_matches_the_worker() {
    let unit = read("deploy/systemd/article-ingest.service");
    let value = |key: &str| -> String {
        unit.lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("the unit has no {key}="))
            .to_string()
    };
    assert_eq!(value("Type"), "simple");
    assert_eq!(value("User"), "article-ingest");
    assert_eq!(value("EnvironmentFile"), "-/etc/article-ingest/env");
    assert_eq!(value("Restart"), "on-failure");
    assert_eq!(value("KillSignal"), "SIGTERM");
    assert_eq!(value("NoNewPrivileges"), "yes");
    assert_eq!(value("ProtectSystem"), "strict");
    let exec: Vec<String> = value("ExecStart")
        .split_whitespace()
        .map(String::from)
        .collect();
    assert_eq!(exec[..2], ["/usr/local/bin/article-ingest", "run"]);
    assert_eq!(
        config_arg(&exec).as_deref(),
        Some("/etc/article-ingest/production.toml")
    );
    let stop = seconds(&value("TimeoutStopSec"));
    assert!(
        stop > defaults().worker.drain_timeout_secs,
        "TimeoutStopSec {stop}"
    );
}

#[test]
fn helpers_can_fail() {
    assert_eq!(seconds("1m30s"), 90);
    assert_eq!(seconds("30"), 30);
    assert_eq!(
        setting_vars("ARTICLE_INGEST__<SECTION>__<FIELD> ARTICLE_INGEST__LOG__LEVEL=x"),
        vec!["ARTICLE_INGEST__LOG__LEVEL".to_string()]
    );
    assert!(is_setting("ARTICLE_INGEST__LOG__LEVEL").is_ok());
    assert!(is_setting("ARTICLE_INGEST__LOGS__LEVEL").is_err());
}
