import Foundation
import TestSupport
import Testing

/// Attack 11 of the isolation issue: the webhook endpoint as an attacker on the network uses it.
@Suite("Webhooks: no empty secret, no log flood")
struct WebhookHardeningTests {
    @Test("an empty or unset webhook secret refuses the start, saying which variable")
    func emptySecret() throws {
        let port = try freeLoopbackPort()
        let fixture = try DaemonTests.fixture(port: port)
        for environment in [["PA_TEST_HOOK": ""], [:]] {
            let result = try fixture.agent("run", environment: environment.merging(["PA_ROOT": fixture.root]) { $1 })
            #expect(result.status != 0, "\(environment): \(result.stderr)")
            #expect(result.stderr.contains("http.webhookSecretEnv names PA_TEST_HOOK, which is"), "\(result.stderr)")
        }
    }

    @Test("a flood of rejected requests writes one log line per interval, not one per request")
    func rejectedRequestsDoNotFloodTheLog() throws {
        let port = try freeLoopbackPort()
        let fixture = try DaemonTests.fixture(port: port)
        let log = "\(fixture.root)/agent.log"
        let agent = try RunningAgent(
            fixture, port: port, environment: ["PA_ROOT": fixture.root, "PA_TEST_HOOK": "s3cret"], stderrFile: log)
        let url = "http://127.0.0.1:\(port)/hooks/git"
        let flood = (0..<200).flatMap { index in
            (index == 0 ? [] : ["--next"])
                + [
                    "-s", "-o", "/dev/null", "-w", "%{http_code}\\n", "-X", "POST", "-H", "X-Gitlab-Token: wrong", "-d", "{}",
                    url,
                ]
        }
        let codes = try runProcess(["curl"] + flood).stdout.split(separator: "\n")
        #expect(codes.count == 200 && codes.allSatisfy { $0 == "401" })
        #expect(agent.terminate() == 0)
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").filter {
            $0.contains("webhook rejected")
        }
        #expect((1...2).contains(lines.count), "\(lines.count) log lines for 200 rejected requests")
    }
}
