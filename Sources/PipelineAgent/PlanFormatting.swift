import Foundation
import Reconciler
import SpecModel

/// `plan` and `status` as a person reads them: one line per stage, like `terraform plan`.
enum PlanText {
    /// `agent host:123.1 live (coordinator), heartbeat 2026-…; running shop/dev#4`.
    static func agentLine(_ agent: AgentMember) -> String {
        let role = agent.coordinator ? " (coordinator)" : ""
        let running = agent.running.isEmpty ? "idle" : "running " + agent.running.joined(separator: " ")
        return
            "agent \(agent.instance) \(agent.state)\(role), last heartbeat \(AuditTime.format(agent.lastHeartbeat)); \(running)"
    }

    static func render(_ plan: Plan, title: String) -> String {
        var lines: [String] = []
        if let source = plan.source {
            let fetched = source.lastFetch.map { "last fetch \(AuditTime.format($0))" } ?? "never fetched"
            lines.append("source \(source.url): \(fetched)\(source.lastError.map { "; failing: \($0)" } ?? "")")
            lines.append("")
        }
        if let agents = plan.agents, !agents.isEmpty {
            lines += agents.map(agentLine) + [""]
        }
        let stages = plan.pipelines.flatMap(\.stages)
        let nameWidth = max(5, stages.map(\.name.count).max() ?? 0)
        let phaseWidth = max(5, stages.map(\.phase.rawValue.count).max() ?? 0)
        for pipeline in plan.pipelines {
            lines.append("pipeline \(pipeline.name)")
            if let phase = pipeline.phase { lines.append("  \(phase.rawValue): \(pipeline.reason ?? "")") }
            for stage in pipeline.stages {
                let current = stage.current.map { String($0.prefix(12)) } ?? "(none)"
                let desired = stage.desired.map { String($0.prefix(12)) } ?? "(none)"
                let arrow = current == desired ? "  " : "→ "
                var line = "  " + stage.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0)
                line += "  " + current.padding(toLength: 12, withPad: " ", startingAt: 0) + " " + arrow
                line += desired.padding(toLength: 12, withPad: " ", startingAt: 0)
                line += "  " + stage.phase.rawValue.padding(toLength: phaseWidth, withPad: " ", startingAt: 0)
                line += "  " + stage.health.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)
                line += "  " + stage.reason
                lines.append(line)
                lines += details(stage)
            }
            lines.append("")
        }
        let starting = stages.filter { $0.phase == .outOfSync }.count
        let waiting = stages.filter { [.waitingUpstream, .waitingApproval, .waitingWindow, .frozen].contains($0.phase) }.count
        let failed =
            stages.filter { $0.phase == .failed || $0.phase == .invalid }.count
            + plan.pipelines.filter { $0.phase == .invalid }.count
        lines.append(
            "\(title): \(starting) promotion\(starting == 1 ? "" : "s") to start, \(waiting) waiting, \(failed) failed or invalid."
        )
        // Names, reasons, file names and step output come from the repository: one printable line each.
        return lines.map(\.printable).joined(separator: "\n") + "\n"
    }

    /// What the agent's floor changed, and how the spec moved away from stale approvals.
    private static func details(_ stage: StagePlan) -> [String] {
        var lines = stage.floor.map { "      floor: \($0)" }
        for stale in stage.approvals.stale {
            lines.append(
                "      stage spec changed since approval by \(stale.approver) (commit \(stale.commit.prefix(12)), \(stale.file)):"
            )
            lines += stale.changes.map { "        " + $0 }
        }
        return lines
    }
}
