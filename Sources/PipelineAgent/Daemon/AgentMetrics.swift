import Foundation
import Prometheus
import Reconciler

/// The agent's Prometheus metrics, fed after every pass.
final class AgentMetrics: @unchecked Sendable {
    let registry = PrometheusCollectorRegistry()
    private let lock = NSLock()
    private let passes: Counter
    private let fetchErrors: Counter
    private let fetchDuration: DurationHistogram
    private let passDuration: DurationHistogram
    private let auditRecords: Counter
    private let approvalsPending: Gauge
    private var lastAuditSeq: Int64 = 0
    /// Each stage of the last plan with its phase and health, in plan order.
    private var shownStages: [(pipeline: String, stage: String, phase: Phase, health: Health)] = []

    init() {
        passes = registry.makeCounter(descriptor: Self.name("reconcile_passes", "total", "Reconcile passes run"))
        fetchErrors = registry.makeCounter(descriptor: Self.name("fetch_errors", "total", "Passes whose fetch failed"))
        let buckets: [Duration] = [
            .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(500), .seconds(2), .seconds(10),
        ]
        fetchDuration = registry.makeDurationHistogram(
            descriptor: Self.name("fetch_duration", "seconds", "Time to list refs and fetch"), buckets: buckets)
        passDuration = registry.makeDurationHistogram(
            descriptor: Self.name("pass_duration", "seconds", "Time of a whole pass"),
            buckets: buckets + [.seconds(60), .seconds(600)])
        auditRecords = registry.makeCounter(descriptor: Self.name("audit_records", "total", "Audit records written"))
        approvalsPending = registry.makeGauge(descriptor: Self.name("approvals_pending", "", "Stages waiting for approvals"))
        let build = BuildInfo.current()
        registry.makeGauge(
            descriptor: Self.name("build", "info", "The build: release and linked libraries (always 1)"),
            labels: [
                ("version", build.version), ("libgit2", build.libgit2), ("libcurl", build.libcurl), ("sqlite", build.sqlite),
            ]
        ).set(Int64(1))
    }

    static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "pipeline_agent", metricName: metric, unitName: unit, helpText: help)
    }

    func recordFailure() { fetchErrors.increment() }

    func record(_ summary: RunSummary, passTime: Duration, store: any StateReader) {
        lock.withLock {
            passes.increment()
            passDuration.record(passTime)
            if let fetch = summary.fetchDuration { fetchDuration.record(fetch) }
            for promotion in summary.promotions {
                registry.makeCounter(
                    descriptor: Self.name("promotions", "total", "Promotions by stage and result"),
                    labels: [
                        ("pipeline", promotion.key.pipeline), ("stage", promotion.key.stage),
                        ("result", promotion.status.rawValue),
                    ]
                ).increment()
            }
            recordSteps(summary, store: store)
            recordStages(summary.plan)
            if let seq = try? store.auditAnchor()?.seq, seq > lastAuditSeq {
                auditRecords.increment(by: seq - lastAuditSeq)
                lastAuditSeq = seq
            }
        }
    }

    private func recordSteps(_ summary: RunSummary, store: any StateReader) {
        let ids = Set(summary.promotions.map(\.id))
        for id in ids {
            for run in (try? store.stepRuns(promotion: id)) ?? [] where run.phase != "verify" {
                registry.makeDurationHistogram(
                    descriptor: Self.name("step_duration", "seconds", "Step run times"), labels: [("phase", run.phase)],
                    buckets: [.seconds(1), .seconds(10), .seconds(60), .seconds(300), .seconds(1800)]
                ).record(.milliseconds(run.durationMs))
            }
        }
    }

    /// Keeps each stage's phase and health for `emit`. They are rendered there rather than kept as registry
    /// gauges: the registry copies a label table for each new gauge, so a thousand pipelines' 16,000 gauges
    /// took it ten seconds after the first pass, and it never forgets a removed stage.
    private func recordStages(_ plan: Plan?) {
        guard let plan else { return }
        var waiting = 0
        var stages: [(pipeline: String, stage: String, phase: Phase, health: Health)] = []
        for pipeline in plan.pipelines {
            for stage in pipeline.stages {
                if stage.phase == .waitingApproval { waiting += 1 }
                stages.append((pipeline.name, stage.name, stage.phase, stage.health))
            }
        }
        shownStages = stages
        approvalsPending.set(Double(waiting))
    }

    /// The Prometheus text of every metric: the registry's, then the stages' phase and health.
    func emit() -> [UInt8] {
        lock.withLock {
            var text = registry.emitToString()
            text += "# HELP pipeline_agent_stage_phase 1 for the stage's phase\n# TYPE pipeline_agent_stage_phase gauge\n"
            for stage in shownStages {
                let labels = "pipeline=\"\(Self.escaped(stage.pipeline))\",stage=\"\(Self.escaped(stage.stage))\""
                for phase in Phase.allCases {
                    text += "pipeline_agent_stage_phase{\(labels),phase=\"\(phase.rawValue)\"} \(phase == stage.phase ? 1 : 0)\n"
                }
            }
            text += "# HELP pipeline_agent_stage_health 0 Healthy, 1 Unknown, 2 Warning, 3 Critical\n"
            text += "# TYPE pipeline_agent_stage_health gauge\n"
            for stage in shownStages {
                let rank = [Health.healthy: 0, .unknown: 1, .warning: 2, .critical: 3][stage.health] ?? 1
                text +=
                    "pipeline_agent_stage_health{pipeline=\"\(Self.escaped(stage.pipeline))\","
                    + "stage=\"\(Self.escaped(stage.stage))\"} \(rank)\n"
            }
            text += ProcessMetrics.text()
            return Array(text.utf8)
        }
    }

    /// A label value as the text format wants it: backslash, quote and newline escaped.
    static func escaped(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
