import Foundation

/// Checks that need the whole pipeline rather than one value: names, the stage graph,
/// windows, approvals and checks. Structural checks have already passed.
struct PipelineRules {
    let draft: PipelineDraft
    let file: String
    let locations: [String: SourceLocation]
    private(set) var diagnostics: [Diagnostic] = []

    init(draft: PipelineDraft, file: String, locations: [String: SourceLocation]) {
        self.draft = draft
        self.file = file
        self.locations = locations
    }

    mutating func run() {
        checkSourcePaths()
        checkStageNames()
        checkUpstreams()
        checkCycles()
        for stage in draft.stages {
            let path = "spec.stages[\(stage.index)]"
            checkApprovals(stage, path: path)
            checkWindows(stage, path: path)
            checkSteps(stage.steps, path: "\(path).steps")
            checkSteps(stage.rollback, path: "\(path).rollback")
            checkChecks(stage.verify, path: "\(path).verify")
            checkChecks(stage.healthChecks, path: "\(path).health.checks")
            checkDurations(stage, path: path)
            checkRelativePath(stage.observeWorkdir, path: "\(path).observe.workdir")
            for (index, glob) in stage.checkoutPaths where PathGlob(glob) == nil {
                error("\(path).checkout.paths[\(index)]", "'\(glob)' is not a relative path glob (no leading '/', no '..')")
            }
        }
    }

    private mutating func checkSourcePaths() {
        for (index, glob) in draft.sourcePaths where PathGlob(glob) == nil {
            error("spec.source.paths[\(index)]", "'\(glob)' is not a relative path glob (no leading '/', no '..')")
        }
    }

    private mutating func checkStageNames() {
        var seen = Set<String>()
        for stage in draft.stages {
            guard let name = stage.name, !seen.insert(name).inserted else { continue }
            error("spec.stages[\(stage.index)].name", "duplicate stage name '\(name)' in pipeline '\(draft.name ?? "?")'")
        }
    }

    private mutating func checkUpstreams() {
        let names = draft.stages.compactMap(\.name)
        for stage in draft.stages {
            guard let upstream = stage.from, let name = stage.name else { continue }
            if upstream == name {
                error("spec.stages[\(stage.index)].from", "stage '\(name)' cannot come from itself")
            } else if !names.contains(upstream) {
                let hint = suggestion(upstream, names)
                error("spec.stages[\(stage.index)].from", "stage '\(name)' comes from unknown stage '\(upstream)'\(hint)")
            }
        }
    }

    private mutating func checkCycles() {
        let named = draft.stages.compactMap { stage in stage.name.map { ($0, stage.from) } }
        let upstreamOf = Dictionary(named, uniquingKeysWith: { first, _ in first })
        var reported = Set<String>()
        for stage in draft.stages {
            guard let name = stage.name, stage.from != name else { continue }
            guard let chain = cycle(from: name, upstreamOf: upstreamOf), reported.isDisjoint(with: chain) else { continue }
            reported.formUnion(chain)
            let shown = (chain + [name]).joined(separator: " ← ")
            error("spec.stages[\(stage.index)].from", "stages form a cycle: \(shown)")
        }
    }

    /// The chain of upstreams that leads from `start` back to itself, if there is one.
    private func cycle(from start: String, upstreamOf: [String: String?]) -> [String]? {
        var chain = [start]
        var current = upstreamOf[start] ?? nil
        while let next = current {
            if next == start { return chain }
            if chain.contains(next) { return nil }
            chain.append(next)
            current = upstreamOf[next] ?? nil
        }
        return nil
    }

    private mutating func checkApprovals(_ stage: StageDraft, path: String) {
        guard let approvals = stage.approvals else {
            if stage.promotion == .manual {
                warning(
                    "\(path).promotion", "manual stage '\(stage.name ?? "?")' has no approvals block, so only a pin can move it")
            }
            return
        }
        let distinct = Set(approvals.approvers.map { $0.lowercased() })
        if distinct.count < approvals.approvers.count {
            error("\(path).approvals.approvers", "an approver is listed twice; each principal counts once")
        }
        if approvals.required > distinct.count {
            error(
                "\(path).approvals.required",
                "requires \(approvals.required) approvals but lists only \(distinct.count) approver\(distinct.count == 1 ? "" : "s")"
            )
        }
        if approvals.required == 0 {
            warning("\(path).approvals.required", "required: 0 lets the stage promote without any approval")
        }
    }

    private mutating func checkWindows(_ stage: StageDraft, path: String) {
        for (index, zone) in stage.timezones where TimeZone(identifier: zone) == nil {
            error(
                "\(path).windows[\(index)].timezone", "unknown time zone '\(zone)'; use an IANA name such as Europe/Berlin or UTC"
            )
        }
        for (index, window) in stage.windows {
            let windowPath = "\(path).windows[\(index)]"
            if window.from == window.to {
                error("\(windowPath).to", "window opens and closes at \(window.from); it would never be open")
            }
            if Set(window.days).count < window.days.count {
                warning("\(windowPath).days", "a day is listed twice")
            }
        }
    }

    private mutating func checkSteps(_ steps: [(Int, Step)], path: String) {
        var seen = Set<String>()
        for (index, step) in steps {
            if !seen.insert(step.name).inserted {
                error("\(path)[\(index)].name", "duplicate step name '\(step.name)'")
            }
            checkRelativePath(step.workdir, path: "\(path)[\(index)].workdir")
            if step.timeout?.milliseconds == 0 {
                error("\(path)[\(index)].timeout", "a timeout of 0 would kill the step at once")
            }
        }
    }

    private mutating func checkChecks(_ checks: [(Int, Check)], path: String) {
        var seen = Set<String>()
        for (index, check) in checks {
            let checkPath = "\(path)[\(index)]"
            if !seen.insert(check.name).inserted {
                error("\(checkPath).name", "duplicate check name '\(check.name)'")
            }
            checkKind(check, path: checkPath)
            checkThresholds(check, path: checkPath)
            checkRelativePath(check.workdir, path: "\(checkPath).workdir")
            checkRelativePath(check.dbtResults, path: "\(checkPath).dbtResults")
        }
    }

    private mutating func checkKind(_ check: Check, path: String) {
        let kinds = [check.run, check.dbtResults, check.http].compactMap { $0 }
        if kinds.count != 1 {
            error(path, "check '\(check.name)' needs exactly one of run, dbtResults or http (found \(kinds.count))")
        }
        if check.http == nil, check.expectStatus != nil || check.maxLatency != nil {
            error(path, "check '\(check.name)': expectStatus and maxLatency apply to http checks only")
        }
        if check.run == nil, check.workdir != nil {
            error("\(path).workdir", "check '\(check.name)': workdir applies to run checks only")
        }
    }

    private mutating func checkThresholds(_ check: Check, path: String) {
        if let warn = check.warnIf, let fail = check.errorIf, warn.limit > fail.limit {
            warning("\(path).warnIf", "warnIf \(warn) is above errorIf \(fail), so the warning can never show")
        }
    }

    private mutating func checkDurations(_ stage: StageDraft, path: String) {
        if stage.timeout?.milliseconds == 0 {
            error("\(path).timeout", "a promotion timeout of 0 would fail every promotion")
        }
        if stage.healthInterval?.milliseconds == 0 {
            error("\(path).health.interval", "a health interval of 0 would run the checks without pause")
        }
    }

    private mutating func checkRelativePath(_ value: String?, path: String) {
        guard let value else { return }
        if value.hasPrefix("/") || value.split(separator: "/").contains("..") {
            error(path, "'\(value)' must stay inside the checkout: a relative path without '..'")
        }
    }

    private func location(_ path: String) -> SourceLocation {
        var probe = path
        while !probe.isEmpty {
            if let found = locations[probe] { return found }
            guard let cut = probe.lastIndex(where: { $0 == "." || $0 == "[" }) else { break }
            probe = String(probe[..<cut])
        }
        return locations[""] ?? .start
    }

    private mutating func error(_ path: String, _ message: String) {
        diagnostics.append(Diagnostic(.error, file: file, at: location(path), message))
    }

    private mutating func warning(_ path: String, _ message: String) {
        diagnostics.append(Diagnostic(.warning, file: file, at: location(path), message))
    }
}
