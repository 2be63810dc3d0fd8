import Foundation
import GitSource
import Logging
import SpecModel

/// Finds, for each signed approval, the stage's spec at the commit that added the approval file:
/// the definition the approver vouched for, which the approval rules compare with what runs now.
struct ApprovedSpecReader {
    private let reader: SpecReader

    init(logger: Logger) {
        reader = SpecReader(directories: ["pipelines"], logger: logger)
    }

    func attach(to checked: [CheckedApproval], in repository: GitRepository) throws -> [CheckedApproval] {
        var catalogs: [String: SpecCatalog] = [:]
        return try checked.map { item in
            guard item.rejection == nil, let approval = item.approval, let commit = item.evidence?.addedIn,
                let id = ObjectID(hex: commit)
            else { return item }
            let catalog = try catalogs[commit] ?? reader.catalog(at: id, in: repository)
            catalogs[commit] = catalog
            var bound = item
            bound.approvedSpec = Self.stage(named: approval, in: catalog, commit: commit)
            return bound
        }
    }

    static func stage(named approval: Approval, in catalog: SpecCatalog, commit: String) -> ApprovedSpec {
        let at = "at commit \(commit.prefix(12)), which added the approval"
        guard let document = catalog.pipelines.first(where: { $0.pipeline.name == approval.pipeline }) else {
            return .unavailable("pipeline \(approval.pipeline) had no spec \(at)")
        }
        let invalid = catalog.diagnostics.contains { $0.file == document.file && $0.severity == .error }
        if invalid { return .unavailable("the spec of \(approval.pipeline) was invalid \(at)") }
        guard let stage = document.pipeline.stage(named: approval.stage) else {
            return .unavailable("pipeline \(approval.pipeline) had no stage \(approval.stage) \(at)")
        }
        return .stage(stage)
    }
}
