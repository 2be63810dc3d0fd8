import Foundation
import TestSupport
import Testing

@Suite("What a step sees")
struct StepEnvironmentTests {
    @Test("PA_* variables, stage vars, and only its own stage's secrets, redacted in logs and audit")
    func environmentAndSecrets() throws {
        let dump = #"        - {name: dump, run: 'env | sort > "$PA_ROOT/NAME.env"; echo "token=$DB_PASSWORD"'}"#
        let stages = ["dev", "prod"].map { name -> String in
            var lines = ["    - name: \(name)"]
            if name == "prod" { lines += ["      from: dev", "      soak: 0s"] }
            lines += [
                "      vars: {LIMIT: 10000, FLAG: true}", "      steps:", dump.replacingOccurrences(of: "NAME", with: name),
            ]
            return lines.joined(separator: "\n")
        }.joined(separator: "\n")
        let secret = "hunter2-\(UUID().uuidString.prefix(8))"
        let fixture = try AgentFixture(
            stages: stages, extraConfig: "secrets:\n  DB_PASSWORD: {env: PA_TEST_DB_PASSWORD, stages: [shop/prod]}\n")
        let result = try fixture.agent("run", "--once", environment: ["PA_ROOT": fixture.root, "PA_TEST_DB_PASSWORD": secret])
        #expect(result.status == 0, "\(result.stderr)")

        let dev = try String(contentsOfFile: "\(fixture.root)/dev.env", encoding: .utf8)
        let head = try fixture.git.git("rev-parse", "HEAD")
        for expected in ["PA_PIPELINE=shop", "PA_STAGE=dev", "PA_CANDIDATE=\(head)", "PA_PREVIOUS=", "LIMIT=10000", "FLAG=true"] {
            #expect(dev.contains(expected + "\n"), "dev misses \(expected)")
        }
        #expect(dev.contains("PA_CHECKOUT=\(fixture.root)/state-work/"))
        #expect(!dev.contains(secret), "dev must not see prod's secret")
        #expect(!dev.contains("PA_TEST_DB_PASSWORD"), "the agent's own copy of the secret is not passed on")
        let prod = try String(contentsOfFile: "\(fixture.root)/prod.env", encoding: .utf8)
        #expect(prod.contains("DB_PASSWORD=\(secret)\n"))

        let logs = try runProcess(["grep", "-r", "token=", "\(fixture.root)/state/logs"]).stdout
        #expect(logs.contains("token=[REDACTED]"))
        #expect(!logs.contains(secret))
        let audit = try String(contentsOfFile: "\(fixture.root)/state/audit.jsonl", encoding: .utf8)
        #expect(!audit.contains(secret))
    }

    @Test(
        "a prod step that echoes its secret (plain, base64, URL-encoded) leaves only the marker in log, audit, status, notifications"
    )
    func echoedSecretIsRedactedEverywhere() throws {
        let scratch = try Scratch()
        let receiver = try RecordingReceiver(logIn: scratch.path)
        let leak =
            #"        - {name: connect, run: 'echo "b64=$(printf %s "$DB_PASSWORD" | base64)"; "#
            + #"python3 -c "import os,urllib.parse; print(\"url=\" + urllib.parse.quote(os.environ[\"DB_PASSWORD\"], safe=\"\"))"; "#
            + #"echo "connecting with password=$DB_PASSWORD"; exit 3'}"#
        let stages = """
                - name: prod
                  notify: [team]
                  steps:
            \(leak)
            """
        let secret = "s3cr/t+\(UUID().uuidString.prefix(8))&x"
        let config = """
            secrets:
              DB_PASSWORD: {env: PA_TEST_DB_PASSWORD, stages: [shop/prod]}
            notifications:
              team: {type: webhook, url: "\(receiver.url("/team"))"}

            """
        let fixture = try AgentFixture(stages: stages, extraConfig: config)
        let result = try fixture.agent("run", "--once", environment: ["PA_TEST_DB_PASSWORD": secret])
        #expect(result.status == 1, "the step fails: \(result.stderr)")

        let encodings = [
            secret, Data(secret.utf8).base64EncodedString(),
            secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? secret,
        ]
        let logs = try runProcess(["sh", "-c", #"cat "$0"/state/logs/*/*"#, fixture.root]).stdout
        let audit = try String(contentsOfFile: "\(fixture.root)/state/audit.jsonl", encoding: .utf8)
        let status = try fixture.agent("status", "--output", "json").stdout
        let notifications = receiver.requests().map(\.body).joined(separator: "\n")
        #expect(logs.contains("b64=[REDACTED]") && logs.contains("url=[REDACTED]"), "\(logs)")
        #expect(notifications.contains("connecting with password=[REDACTED]"), "on-call sees why, not the secret")
        #expect(audit.contains("connecting with password=[REDACTED]"))
        for (place, text) in [("log", logs), ("audit", audit), ("status", status), ("notifications", notifications)] {
            for form in encodings { #expect(!text.contains(form), "\(form) leaked into the \(place)") }
        }
    }
}
