import Foundation
import TestSupport
import Testing

@Suite("history and logs: what ran, from the state store")
struct OperatorCommandsTests {
    @Test("history lists a stage's promotions newest first; logs shows each step's tail, redacted and escaped")
    func historyAndLogs() throws {
        let stage = [
            "    - name: dev", "      steps:",
            #"        - {name: build, run: 'echo building; echo "token=$db"; printf "\033[31mred\033[0m\n"'}"#,
            #"        - {name: check, run: '! grep -q bad app/version.txt'}"#,
        ].joined(separator: "\n")
        let fixture = try AgentFixture(
            stages: stage, extraConfig: "secrets: {db: {env: PA_TEST_HISTORY_SECRET, stages: [\"shop/dev\"]}}\n")
        let env = ["PA_ROOT": fixture.root, "PA_TEST_HISTORY_SECRET": "very-secret-value"]
        #expect(try fixture.agent("run", "--once", environment: env).status == 0)
        let bad = try fixture.push("bad", files: ["app/version.txt": "bad\n"])
        #expect(try fixture.agent("run", "--once", environment: env).status == 1)

        let history = try fixture.agent("history", "--pipeline", "shop", "--stage", "dev")
        #expect(history.status == 0, "\(history.stderr)")
        let rows = history.stdout.split(separator: "\n")
        #expect(rows.count == 2, "\(history.stdout)")
        #expect(rows.first?.hasPrefix("#2  dev  \(bad.prefix(12))  failed") == true, "newest first: \(history.stdout)")
        let json = try fixture.agent("history", "--pipeline", "shop", "-o", "json")
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(entries.map { $0["status"] as? String } == ["failed", "succeeded"])
        #expect((entries.first?["reason"] as? String)?.contains("check") == true, "\(entries)")

        let logs = try fixture.agent("logs", "--promotion", "2")
        #expect(logs.status == 0, "\(logs.stderr)")
        #expect(logs.stdout.contains("[step] build (attempt 1): succeeded, exit 0"), "\(logs.stdout)")
        #expect(logs.stdout.contains("  | building"))
        #expect(!logs.stdout.contains("very-secret-value"), "\(logs.stdout)")
        #expect(!logs.stdout.contains("\u{1B}"), "a terminal escape reached the operator's terminal")
        #expect(logs.stdout.contains("[step] check (attempt 1): step check exited with status 1, exit 1"), "\(logs.stdout)")
        #expect(!logs.stdout.contains("token=\n"), "the step saw its secret, and the log shows it redacted")
        #expect(try fixture.agent("logs", "--promotion", "99").status == 1)
    }

    @Test("retry: a failed candidate is promoted again only when asked, the request audited with who asked")
    func retry() throws {
        let stage = [
            "    - name: dev", "      steps:", #"        - {name: deploy, run: 'true'}"#,
            "      verify:", #"        - {name: db-up, run: 'test -e "$PA_ROOT/db-up"'}"#,
        ].joined(separator: "\n")
        let fixture = try AgentFixture(stages: stage)
        let env = ["PA_ROOT": fixture.root]
        let candidate = try fixture.git.git("rev-parse", "HEAD")
        #expect(try fixture.agent("run", "--once", environment: env).status == 1)
        #expect(try fixture.agent("run", "--once", environment: env).status == 0, "nothing new: the failure stands")
        #expect(try fixture.auditTypes().filter { $0 == "promotion.started" }.count == 1)
        #expect(try fixture.status()["dev"]?["phase"] as? String == "Failed")

        #expect(FileManager.default.createFile(atPath: "\(fixture.root)/db-up", contents: Data()))
        let asked = try fixture.agent("retry", "--pipeline", "shop", "--stage", "dev", "--by", "alice", "--reason", "db fixed")
        #expect(asked.status == 0, "\(asked.stderr)")
        #expect(asked.stdout.contains("asked to retry \(candidate.prefix(12)) on shop/dev"), "\(asked.stdout)")
        #expect(try fixture.agent("run", "--once", environment: env).status == 0)
        #expect(try fixture.status()["dev"]?["current"] as? String == candidate)
        let records = try fixture.agent("audit", "log", "--output", "json").stdout.split(separator: "\n").compactMap {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        let request = try #require(records.first { $0["type"] as? String == "promotion.retryRequested" })
        #expect(request["actor"] as? String == "alice" && request["candidate"] as? String == candidate)
        #expect((request["detail"] as? [String: Any])?["reason"] as? String == "db fixed")
        #expect(records.filter { $0["type"] as? String == "promotion.succeeded" }.count == 1)

        // Nothing failed now: the command refuses, and a request written by hand is refused by the agent.
        let again = try fixture.agent("retry", "--pipeline", "shop", "--stage", "dev", "--reason", "again")
        #expect(again.status == 1 && again.stderr.contains("is succeeded, not failed"), "\(again.stderr)")
        try FileManager.default.createDirectory(
            atPath: "\(fixture.root)/state/requests", withIntermediateDirectories: true)
        let forged =
            #"{"pipeline":"shop","stage":"dev","candidate":"\#(candidate)","by":"mallory","reason":"x","#
            + #""at":"2026-11-27T00:00:00Z"}"#
        try forged.write(toFile: "\(fixture.root)/state/requests/retry-1-forged.json", atomically: true, encoding: .utf8)
        #expect(try fixture.agent("run", "--once", environment: env).status == 0)
        #expect(try fixture.auditTypes().filter { $0 == "promotion.started" }.count == 2, "no promotion for it")
        #expect(try fixture.auditTypes().contains("promotion.retryRefused"))
        #expect(!FileManager.default.fileExists(atPath: "\(fixture.root)/state/requests/retry-1-forged.json"))
    }
}

@Suite("The status JSON and its schema")
struct StatusSchemaTests {
    @Test("status and plan JSON of a real agent validate against `schema --status`; a wrong phase does not")
    func realOutputValidates() throws {
        let (fixture, _) = try ApprovalEndToEndTests.world()
        #expect(try fixture.agent("run", "--once", environment: ["PA_ROOT": fixture.root]).status == 0)
        try fixture.push("bad", files: ["app/version.txt": "bad\n"])
        let scratch = try Scratch()
        try scratch.write("schema.json", try runAgent("schema", "--status").stdout)
        try scratch.write("status.json", try fixture.agent("status", "-o", "json").stdout)
        try scratch.write("plan.json", try fixture.agent("plan", "-o", "json").stdout)
        let status = try String(contentsOfFile: scratch.sub("status.json"), encoding: .utf8)
        #expect(status.contains("WaitingApproval"), "a stage waiting for approvals is in the sample: \(status)")
        try scratch.write("wrong.json", status.replacingOccurrences(of: "WaitingApproval", with: "Waiting"))
        let check = """
            import json, sys, jsonschema
            schema = json.load(open(sys.argv[1]))
            for name in sys.argv[2:]:
                errors = list(jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
                              .iter_errors(json.load(open(name))))
                print(name.split("/")[-1], "valid" if not errors else "invalid: " + errors[0].message)
            """
        let result = try runProcess([
            "\(repositoryRoot)/.venv/bin/python", "-c", check, scratch.sub("schema.json"), scratch.sub("status.json"),
            scratch.sub("plan.json"), scratch.sub("wrong.json"),
        ])
        #expect(result.stdout.contains("status.json valid"), "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("plan.json valid"), "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("wrong.json invalid: 'Waiting' is not one of"), "\(result.stdout)\(result.stderr)")
    }
}
