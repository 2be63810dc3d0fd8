import Foundation

extension AgentConfigCheck {
    /// Rules that set nothing, match nothing or can never be met; and, located in the spec,
    /// every stage the floor makes stricter than its spec says.
    mutating func checkFloor() {
        for (index, rule) in floor.rules.enumerated() {
            let path = "protect[\(index)]"
            if rule.promotion != .manual, rule.minApprovals == nil, rule.approvers == nil {
                report(.warning, path, "\(path) sets no floor: give promotion: manual, minApprovals or approvers")
            }
            if let count = rule.minApprovals, let approvers = rule.approvers, count > approvers.count {
                report(
                    .error, "\(path).minApprovals",
                    "\(path) needs \(count) approvals but names only \(approvers.count) approver\(approvers.count == 1 ? "" : "s")"
                )
            }
            let matched = stagesByPipeline.flatMap { pipeline in
                pipeline.stages.filter {
                    !floor.rules(pipeline: pipeline.pipeline, stage: $0.name).filter { $0.index == index }.isEmpty
                }
            }
            if matched.isEmpty, !catalog.pipelines.isEmpty {
                let known = stagesByPipeline.map { "\($0.pipeline): \($0.stages.map(\.name).joined(separator: ", "))" }
                report(
                    .error, path,
                    "\(path) (pipeline '\(rule.pipeline)', stage '\(rule.stage)') matches no stage, so it protects nothing; "
                        + "stages here: \(known.joined(separator: "; "))")
            }
        }
        for document in catalog.pipelines {
            for (index, stage) in document.pipeline.spec.stages.enumerated() {
                reportTightenings(document, index, stage)
            }
        }
    }

    private mutating func reportTightenings(_ document: PipelineDocument, _ index: Int, _ stage: Stage) {
        let result = floor.apply(pipeline: document.pipeline.name, to: stage)
        let at = document.locations["spec.stages[\(index)]"] ?? document.location
        let name = "\(document.pipeline.name)/\(stage.name)"
        for tightening in result.tightenings {
            diagnostics.append(
                Diagnostic(
                    .warning, file: document.file, at: at,
                    "\(name) is looser than the agent's floor (\(config.file)): \(tightening)"))
        }
        let effective = result.stage
        let approvers = effective.approvals?.approvers.count ?? 0
        guard !result.tightenings.isEmpty || !floor.rules(pipeline: document.pipeline.name, stage: stage.name).isEmpty,
            effective.requiredApprovals > approvers
        else { return }
        diagnostics.append(
            Diagnostic(
                .error, file: document.file, at: at,
                "\(name) needs \(effective.requiredApprovals) approval\(effective.requiredApprovals == 1 ? "" : "s") "
                    + "under the agent's floor, but only \(approvers) principal\(approvers == 1 ? " is" : "s are") "
                    + "in both the spec's and the floor's approvers, so it can never be promoted"))
    }
}
