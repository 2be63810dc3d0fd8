import Yams

/// The parts of a Pipeline document that decode on their own. Rules check these, so a broken
/// value in one place does not hide problems elsewhere in the same file.
struct PipelineDraft {
    var name: String?
    var sourcePaths: [(index: Int, glob: String)] = []
    var stages: [StageDraft] = []

    init(_ root: Node) {
        name = root["metadata"]?["name"]?.scalar?.string
        sourcePaths = Self.strings(root["spec"]?["source"]?["paths"])
        if case .sequence(let sequence)? = root["spec"]?["stages"] {
            stages = sequence.enumerated().map { StageDraft(index: $0.offset, node: $0.element) }
        }
    }

    static func strings(_ node: Node?) -> [(index: Int, glob: String)] {
        guard case .sequence(let sequence)? = node else { return [] }
        return sequence.enumerated().compactMap { index, item in item.scalar.map { (index, $0.string) } }
    }
}

/// One stage's decodable parts.
struct StageDraft {
    let index: Int
    var name: String?
    var from: String?
    var promotion: PromotionMode?
    var approvals: ApprovalPolicy?
    var windows: [(Int, Window)] = []
    var timezones: [(Int, String)] = []
    var steps: [(Int, Step)] = []
    var rollback: [(Int, Step)] = []
    var verify: [(Int, Check)] = []
    var healthChecks: [(Int, Check)] = []
    var timeout: SpecDuration?
    var healthInterval: SpecDuration?
    var observeWorkdir: String?
    var checkoutPaths: [(index: Int, glob: String)] = []

    init(index: Int, node: Node) {
        self.index = index
        name = node["name"]?.scalar?.string
        from = node["from"]?.scalar?.string
        promotion = node["promotion"]?.scalar.flatMap { PromotionMode(rawValue: $0.string) }
        approvals = decodeOne(node["approvals"])
        windows = decodeEach(node["windows"])
        let zones: [(Int, WindowZone)] = decodeEach(node["windows"])
        timezones = zones.compactMap { index, zone in zone.timezone.map { (index, $0) } }
        steps = decodeEach(node["steps"])
        rollback = decodeEach(node["rollback"])
        verify = decodeEach(node["verify"])
        healthChecks = decodeEach(node["health"]?["checks"])
        timeout = node["timeout"]?.scalar.flatMap { SpecDuration($0.string) }
        healthInterval = node["health"]?["interval"]?.scalar.flatMap { SpecDuration($0.string) }
        observeWorkdir = node["observe"]?["workdir"]?.scalar?.string
        checkoutPaths = PipelineDraft.strings(node["checkout"]?["paths"])
    }
}

/// Just the time zone of a window, readable even when the rest of the window is broken.
private struct WindowZone: Decodable {
    var timezone: String?
}

private func decodeOne<T: Decodable>(_ node: Node?) -> T? {
    guard let node else { return nil }
    return try? SharedYAML.decoder.decode(T.self, from: node)
}

private func decodeEach<T: Decodable>(_ node: Node?) -> [(Int, T)] {
    guard case .sequence(let sequence)? = node else { return [] }
    return sequence.enumerated().compactMap { index, item in decodeOne(item).map { (index, $0) } }
}
