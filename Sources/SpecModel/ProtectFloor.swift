import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The agent config's `protect` rules: a policy floor the watched repository can tighten but
/// never loosen. Pure: the planner, `validate --config`, `plan` and `status` all use it.
public struct ProtectFloor: Sendable, Hashable {
    public let rules: [ProtectRule]

    public init(_ rules: [ProtectRule]) {
        self.rules = rules
    }

    /// No rules: every stage runs as its spec says.
    public static let none = ProtectFloor([])

    /// The rules matching a stage, with their index in the config (`protect[i]`).
    public func rules(pipeline: String, stage: String) -> [(index: Int, rule: ProtectRule)] {
        rules.enumerated().filter { _, rule in
            Self.glob(rule.pipeline, matches: pipeline) && Self.glob(rule.stage, matches: stage)
        }.map { ($0.offset, $0.element) }
    }

    /// The stage as the agent runs it: the stricter of spec and floor, and what the floor changed.
    public func apply(pipeline: String, to stage: Stage) -> FloorResult {
        let matching = rules(pipeline: pipeline, stage: stage.name)
        guard !matching.isEmpty else { return FloorResult(stage: stage, tightenings: []) }
        var effective = stage
        var tightenings: [Tightening] = []
        for (index, rule) in matching where rule.promotion == .manual && effective.promotionMode == .auto {
            effective.promotion = .manual
            tightenings.append(Tightening(rule: index, field: "promotion", spec: "auto", effective: "manual"))
        }
        let specRequired = stage.approvals?.required ?? 0
        var required = specRequired
        for (index, rule) in matching {
            guard let floor = rule.minApprovals, floor > required else { continue }
            tightenings.removeAll { $0.field == "approvals.required" }
            let said = stage.approvals == nil ? "no approvals block" : "\(specRequired)"
            tightenings.append(Tightening(rule: index, field: "approvals.required", spec: said, effective: "\(floor)"))
            required = floor
        }
        let approvers = effectiveApprovers(stage.approvals?.approvers, matching, &tightenings)
        // Self-approval is a loosening: on a protected stage only the floor can allow it.
        var selfApproval = stage.approvals?.allowSelfApproval
        if selfApproval == true, let index = matching.first(where: { $0.rule.allowSelfApproval != true })?.index {
            selfApproval = false
            tightenings.append(Tightening(rule: index, field: "approvals.allowSelfApproval", spec: "true", effective: "false"))
        }
        if required > 0 || stage.approvals != nil || approvers != nil {
            effective.approvals = ApprovalPolicy(
                required: required, approvers: approvers ?? stage.approvals?.approvers ?? [], allowSelfApproval: selfApproval)
        }
        return FloorResult(stage: effective, tightenings: tightenings)
    }

    /// Only principals in both lists count; a spec that names none gets the floor's list.
    private func effectiveApprovers(
        _ spec: [String]?, _ matching: [(index: Int, rule: ProtectRule)], _ tightenings: inout [Tightening]
    ) -> [String]? {
        var current = spec
        for (index, rule) in matching {
            guard let floor = rule.approvers else { continue }
            let allowed = Set(floor.map { $0.lowercased() })
            let narrowed = current.map { list in list.filter { allowed.contains($0.lowercased()) } } ?? floor
            guard narrowed != current else { continue }
            let was = current.map { $0.joined(separator: ", ") } ?? "no approvals block"
            tightenings.append(
                Tightening(
                    rule: index, field: "approvals.approvers", spec: was,
                    effective: narrowed.isEmpty ? "nobody" : narrowed.joined(separator: ", ")))
            current = narrowed
        }
        return current
    }

    /// Shell-style name matching (`*`, `?`, `[...]`), as `fnmatch(3)` does it.
    public static func glob(_ pattern: String, matches name: String) -> Bool {
        fnmatch(pattern, name, 0) == 0
    }
}

/// A stage after the floor, with what the floor changed.
public struct FloorResult: Sendable, Hashable {
    public let stage: Stage
    public let tightenings: [Tightening]
}

/// One value the floor made stricter than the spec asked for.
public struct Tightening: Sendable, Hashable, Codable, CustomStringConvertible {
    /// `protect[i]` in the agent config.
    public let rule: String
    public let field: String
    public let spec: String
    public let effective: String

    public init(rule index: Int, field: String, spec: String, effective: String) {
        self.rule = "protect[\(index)]"
        self.field = field
        self.spec = spec
        self.effective = effective
    }

    public var description: String { "\(rule) tightens \(field): spec says \(spec), the agent uses \(effective)" }
}
