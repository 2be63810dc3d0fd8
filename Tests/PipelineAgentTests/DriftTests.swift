import Foundation
import TestSupport
import Testing

@Suite("Drift: observe reports what is really deployed")
struct DriftTests {
    static func stage(selfHeal: Bool) -> String {
        [
            "    - name: dev",
            "      observe: {run: 'cat \"$PA_ROOT/deployed-id\"', selfHeal: \(selfHeal)}",
            "      steps:",
            #"        - {name: deploy, run: 'echo "$PA_CANDIDATE" > "$PA_ROOT/deployed-id"'}"#,
        ].joined(separator: "\n")
    }

    @Test("a stage changed behind the agent's back is Drifted; selfHeal promotes the recorded candidate again")
    func driftAndHeal() throws {
        for heal in [false, true] {
            let fixture = try AgentFixture(stages: Self.stage(selfHeal: heal))
            let env = ["PA_ROOT": fixture.root]
            #expect(try fixture.agent("run", "--once", environment: env).status == 0)
            let head = try fixture.git.git("rev-parse", "HEAD")
            #expect(try fixture.status()["dev"]?["phase"] as? String == "InSync")

            try Data("someone-else\n".utf8).write(to: URL(fileURLWithPath: "\(fixture.root)/deployed-id"))
            let plan = try fixture.agent("plan", "--output", "json", environment: env).stdout
            #expect(plan.contains(#""phase" : "Drifted""#), "plan sees drift as run does: \(plan)")
            #expect(try fixture.agent("run", "--once", environment: env).status == 0)
            let dev = try fixture.status()["dev"]
            let deployed = try String(contentsOfFile: "\(fixture.root)/deployed-id", encoding: .utf8)
            if heal {
                #expect(deployed == head + "\n")
                #expect(dev?["phase"] as? String == "InSync")
            } else {
                #expect(deployed == "someone-else\n")
                #expect(dev?["phase"] as? String == "Drifted")
                #expect((dev?["reason"] as? String)?.contains("observe reports someone-else deployed") == true)
            }
            #expect(try fixture.auditTypes().contains("gate.blocked"))
        }
    }
}
