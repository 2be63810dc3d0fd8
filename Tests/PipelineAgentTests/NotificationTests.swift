import Foundation
import TestSupport
import Testing

@Suite("Notifications through libcurl, to a receiver on loopback")
struct NotificationTests {
    @Test("exact payloads and signatures per channel type; retries after a 500; gives up cleanly; secrets stay out")
    func channels() throws {
        let scratch = try Scratch()
        let receiver = try RecordingReceiver(logIn: scratch.path)
        let notify = "notify: [team-slack, on-call, audit-hook, flaky-hook, dead-hook]"
        let stages = [
            deployStage("dev", strict: false, extra: [notify]),
            deployStage("staging", from: "dev", extra: [notify]),
        ].joined(separator: "\n")
        let config = """
            notifications:
              team-slack: {type: slack, urlEnv: PA_TEST_SLACK_URL}
              on-call: {type: pagerduty, url: "\(receiver.url("/pagerduty"))", routingKeyEnv: PA_TEST_PD_KEY}
              audit-hook: {type: webhook, url: "\(receiver.url("/hook"))", hmacSecretEnv: PA_TEST_HOOK_SECRET}
              flaky-hook: {type: webhook, url: "\(receiver.url("/flaky"))"}
              dead-hook: {type: webhook, url: "\(receiver.url("/down"))"}

            """
        let fixture = try AgentFixture(stages: stages, extraConfig: config)
        try fixture.push("bad", files: ["app/version.txt": "bad\n"])
        let env = [
            "PA_ROOT": fixture.root, "PA_TEST_SLACK_URL": receiver.url("/slack/T000/SECRETPATH"),
            "PA_TEST_PD_KEY": "pd-routing-key-123", "PA_TEST_HOOK_SECRET": "hook-secret-456",
        ]
        let run = try fixture.agent("run", "--once", environment: env)
        #expect(run.status == 1, "staging fails verification")
        let requests = receiver.requests()

        let slack = requests.filter { $0.path == "/slack/T000/SECRETPATH" }.map(\.body)
        #expect(
            slack.contains(
                #"{"text":":large_blue_circle: shop/dev: promoting \#(try fixture.git.git("rev-parse", "HEAD").prefix(12))"}"#))
        #expect(slack.contains { $0.contains(":red_circle: shop/staging:") && $0.contains("failed (failed)") })

        let pager = requests.filter { $0.path == "/pagerduty" }.map(\.body)
        #expect(
            pager.contains { $0.contains(#""event_action":"resolve""#) && $0.contains(#""dedup_key":"pipeline-agent/shop/dev""#) }
        )
        let trigger = try #require(pager.first { $0.contains(#""event_action":"trigger""#) })
        #expect(
            trigger.contains(#""dedup_key":"pipeline-agent/shop/staging""#)
                && trigger.contains(#""routing_key":"pd-routing-key-123""#))
        #expect(!pager.contains { $0.contains("promoting") }, "PagerDuty is not paged for a start")

        let hook = try #require(requests.first { $0.path == "/hook" })
        let timestamp = try #require(hook.headers["X-Pipeline-Agent-Timestamp"])
        let expected = try sh(
            "python3", "-c",
            "import hmac,hashlib,sys; print(hmac.new(b'hook-secret-456', sys.argv[1].encode(), hashlib.sha256).hexdigest())",
            "\(timestamp).\(hook.body)")
        #expect(hook.headers["X-Pipeline-Agent-Signature"] == "sha256=\(expected)")
        #expect(hook.body.contains(#""event":"promotion.started""#) && hook.body.contains(#""timestamp":"\#(timestamp)""#))

        let audit = try String(contentsOfFile: "\(fixture.root)/state/audit.jsonl", encoding: .utf8)
        let flaky = audit.split(separator: "\n").filter { $0.contains(#""channel":"flaky-hook""#) }
        #expect(flaky.first?.contains(#""type":"notification.failed""#) == true && flaky.first?.contains("HTTP 500") == true)
        #expect(flaky.contains { $0.contains(#""type":"notification.sent""#) && $0.contains(#""attempt":2"#) })
        let dead = audit.split(separator: "\n").filter { $0.contains(#""channel":"dead-hook""#) }
        #expect(dead.allSatisfy { $0.contains("notification.failed") })
        #expect(dead.contains { $0.contains(#""attempt":3"#) })
        #expect(!dead.contains { $0.contains(#""attempt":4"#) })
        #expect(try fixture.status()["dev"]?["phase"] as? String == "InSync", "a failing channel never fails a promotion")
        for secret in ["SECRETPATH", "pd-routing-key-123", "hook-secret-456"] {
            #expect(!audit.contains(secret), "\(secret) leaked into the audit log")
        }
    }
}
