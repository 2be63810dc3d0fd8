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
}
