import Foundation
import TestSupport
import Testing

@Suite("Health monitoring")
struct HealthTests {
    @Test("a freshness check crossing its thresholds: Healthy → Warning → Critical → Healthy, recorded and alerted")
    func freshness() throws {
        let scratch = try Scratch()
        let receiver = try RecordingReceiver(logIn: scratch.path)
        let stage = [
            "    - name: dev",
            "      steps: [{name: deploy, run: 'true'}]",
            "      notify: [alerts]",
            "      health:",
            "        interval: 5m",
            "        checks:",
            #"          - {name: freshness-hours, run: 'cat "$PA_ROOT/freshness"', warnIf: ">24", errorIf: ">48"}"#,
        ].joined(separator: "\n")
        let fixture = try AgentFixture(
            stages: stage, extraConfig: "notifications:\n  alerts: {type: webhook, url: \"\(receiver.url("/alerts"))\"}\n")
        let env = ["PA_ROOT": fixture.root]
        var seen: [String] = []
        for (hours, expected) in [("3", "Unknown"), ("3", "Healthy"), ("30", "Warning"), ("50", "Critical"), ("2", "Healthy")] {
            try Data("\(hours)\n".utf8).write(to: URL(fileURLWithPath: "\(fixture.root)/freshness"))
            #expect(try fixture.agent("run", "--once", environment: env).status == 0)
            let health = try fixture.status()["dev"]?["health"] as? String
            seen.append(health ?? "?")
            #expect(health == expected, "after \(hours)h")
        }
        let log = try fixture.agent("audit", "log", "--output", "json").stdout.split(separator: "\n")
        let changes = log.filter { $0.contains(#""type":"health.changed""#) }
        #expect(changes.count == 4)
        #expect(changes.last?.contains(#""from":"Critical""#) == true && changes.last?.contains(#""to":"Healthy""#) == true)
        let alerts = receiver.requests().filter { $0.body.contains("health.changed") }.map(\.body)
        #expect(alerts.count == 4)
        #expect(alerts.contains { $0.contains(#""severity":"critical""#) && $0.contains("50 crosses errorIf >48") })
        #expect(alerts.contains { $0.contains(#""severity":"warning""#) && $0.contains("30 crosses warnIf >24") })
    }
}
