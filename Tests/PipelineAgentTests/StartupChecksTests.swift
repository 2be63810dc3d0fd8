import Foundation
import TestSupport
import Testing

/// Misconfiguration found when `run` starts, located like `validate --config` reports it, instead of a
/// prod stage waiting for ever or an alert that fails days later.
@Suite("Start-up checks that fail fast")
struct StartupChecksTests {
    @Test("an unreadable allowed_signers stops the start at its config line; nothing is written")
    func unreadableSigners() throws {
        let fixture = try AgentFixture(
            stages: deployStage("dev", strict: false), extraConfig: "trust: {allowedSigners: ./missing_signers}\n")
        let run = try fixture.agent("run", "--once", environment: ["PA_ROOT": fixture.root])
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr.contains("agent.yaml:3:"), "\(run.stderr)")
        #expect(run.stderr.contains("trust.allowedSigners: cannot read"), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(fixture.root)/state/audit.jsonl"), "nothing started")
    }

    @Test("a granted secret or a webhook secret whose variable is unset or empty stops the start, naming it")
    func secretVariables() throws {
        let variable = "PA_TEST_SECRET_\(UUID().uuidString.prefix(6))"
        let fixture = try AgentFixture(
            stages: deployStage("dev", strict: false),
            extraConfig: """
                secrets: {db: {env: \(variable), stages: ["shop/dev"]}}
                http: {listen: "127.0.0.1:\(try freeLoopbackPort())", webhookSecretEnv: \(variable)_HOOK}

                """)
        let unset = try fixture.agent("run", "--once", environment: ["PA_ROOT": fixture.root])
        #expect(unset.status == 2)
        #expect(unset.stderr.contains("secrets.db.env names \(variable), which is not set"), "\(unset.stderr)")
        #expect(!unset.stderr.contains("webhookSecretEnv"), "run --once serves no webhooks: \(unset.stderr)")
        let empty = try fixture.agent("run", "--once", environment: ["PA_ROOT": fixture.root, variable: ""])
        #expect(empty.status == 2)
        #expect(empty.stderr.contains("\(variable), which is empty"), "\(empty.stderr)")
        let service = try fixture.agent("run", environment: ["PA_ROOT": fixture.root, variable: "s"])
        #expect(service.status == 2, "the service stops at once instead of serving unverifiable webhooks")
        #expect(service.stderr.contains("http.webhookSecretEnv names \(variable)_HOOK, which is not set"), "\(service.stderr)")
        let set = try fixture.agent("run", "--once", environment: ["PA_ROOT": fixture.root, variable: "s"])
        #expect(set.status == 0, "\(set.stderr)")
    }

    @Test("a source without the watched branch stops the first start; once fetched, a failing source is an outage")
    func missingBranch() throws {
        let fixture = try AgentFixture(stages: deployStage("dev", strict: false))
        try fixture.git.scratch.write("other.yaml", "source: {url: ./team.git, branch: nope}\nstate: {path: ./state-other}\n")
        let run = try runAgent("run", "--once", "--config", fixture.git.scratch.sub("other.yaml"))
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr.contains("the remote has no branch 'nope'"), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(fixture.root)/state-other/audit.jsonl"))
    }

    @Test("validate --config: a spec naming another branch than the agent's is an error in the spec")
    func specBranch() throws {
        let fixture = try AgentFixture(stages: deployStage("dev", strict: false))
        try fixture.git.scratch.write("dev.yaml", "source: {url: ./team.git, branch: develop}\nstate: {path: ./state}\n")
        let result = try runAgent("validate", "--config", fixture.git.scratch.sub("dev.yaml"), fixture.git.path)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        let output = result.stdout + result.stderr
        #expect(output.contains("pipelines/shop.yaml:"), "\(output)")
        #expect(output.contains("source.branch 'main' is not the branch this agent watches ('develop'"), "\(output)")
    }

    @Test("the start-up summary says what the agent will do, and never a secret")
    func summary() throws {
        let fixture = try AgentFixture(
            stages: deployStage("dev", strict: false),
            extraConfig: "secrets: {db: {env: PA_TEST_SUMMARY_SECRET, stages: [\"shop/dev\"]}}\n")
        let run = try fixture.agent(
            "run", "--once", environment: ["PA_ROOT": fixture.root, "PA_TEST_SUMMARY_SECRET": "hunter2-secret-value"])
        #expect(run.status == 0, "\(run.stderr)")
        let line = try #require(run.stderr.split(separator: "\n").first { $0.contains("pipeline-agent starting") })
        for expected in ["branch=main", "mode=run --once", "maxConcurrentPromotions=4", "webhooks=off"] {
            #expect(line.contains(expected), "\(line)")
        }
        #expect(!run.stderr.contains("hunter2-secret-value"))
    }
}

@Suite("The service log")
struct ServiceLogTests {
    @Test("--log-format json: every line an object; a line per promotion decision, with its stage; never a secret")
    func jsonLines() throws {
        // The step prints the file and fails on "bad": its last line becomes the failure's reason.
        let stage = [
            "    - name: dev", "      steps:",
            #"        - {name: deploy, run: 'cat app/version.txt; ! grep -q bad app/version.txt'}"#,
        ].joined(separator: "\n")
        let fixture = try AgentFixture(
            stages: stage, extraConfig: "secrets: {db: {env: PA_TEST_LOG_SECRET, stages: [\"shop/dev\"]}}\n")
        let secret = "s3cr3t-\(UUID().uuidString.prefix(8))"
        let env = ["PA_ROOT": fixture.root, "PA_TEST_LOG_SECRET": secret]
        #expect(try fixture.agent("run", "--once", "--log-format", "json", environment: env).status == 0)
        try fixture.push("bad", files: ["app/version.txt": "bad \(secret)\n"])
        let run = try fixture.agent("run", "--once", "--log-format", "json", "--log-level", "debug", environment: env)
        let lines = run.stderr.split(separator: "\n").filter { !$0.isEmpty }
        let objects = try lines.map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
        }
        let failed = try #require(objects.first { $0["message"] as? String == "promotion.failed" }, "\(lines)")
        #expect(failed["level"] as? String == "error" && failed["pipeline"] as? String == "shop")
        #expect(failed["stage"] as? String == "dev")
        #expect((failed["reason"] as? String)?.contains("bad") == true, "\(failed)")
        #expect(objects.contains { $0["message"] as? String == "promotion.started" })
        #expect(objects.contains { ($0["time"] as? String)?.hasSuffix("Z") == true })
        #expect(!run.stderr.contains(secret), "the secret reached the log")
        let quiet = try fixture.agent("run", "--once", "--log-level", "error", environment: env)
        #expect(!quiet.stderr.contains("pipeline-agent starting"), "info is below error: \(quiet.stderr)")
    }
}

@Suite("An unusable config file")
struct ConfigFileTests {
    @Test("a missing or unreadable config says why and exits 2 in every command")
    func missingConfig() throws {
        let scratch = try Scratch()
        try scratch.write("pipelines/p.yaml", "kind: Pipeline\n")
        let missing = scratch.sub("nope.yaml")
        for arguments in [["status"], ["plan"], ["run", "--once"], ["history", "--pipeline", "p"], ["audit", "verify"]] {
            let result = try runProcess([agentBinary()] + arguments + ["--config", missing])
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("cannot read the config file: no such file (check --config)"), "\(result.stderr)")
        }
        let validate = try runAgent("validate", "--config", missing, scratch.path)
        #expect(validate.status == 2, "a usage error, not an invalid spec: \(validate.stdout)\(validate.stderr)")
        let directory = try runAgent("status", "--config", scratch.path)
        #expect(directory.stderr.contains("it is a directory; give the YAML file"), "\(directory.stderr)")
    }
}
