import Foundation

/// Every spec found in a set of files, with the problems across them (such as a pipeline
/// name defined twice). Pure: it takes bytes, so the same code serves a directory and a commit.
public struct SpecCatalog: Sendable {
    public private(set) var pipelines: [PipelineDocument] = []
    public private(set) var approvals: [ApprovalDocument] = []
    public private(set) var diagnostics: [Diagnostic] = []
    /// How many files held pipeline-agent documents.
    public private(set) var specFileCount = 0

    /// Builds a catalog from `(path, bytes)` pairs. `alwaysSpec` decides which paths must hold
    /// specs even when no document says so (files under `pipelines/` and `approvals/`).
    public init(files: [(path: String, bytes: Data)], alwaysSpec: (String) -> Bool = SpecCatalog.isConventionalSpecPath) {
        self.init(parsed: files.map { SpecFile(path: $0.path, bytes: $0.bytes) }, alwaysSpec: alwaysSpec)
    }

    /// Builds a catalog from files parsed earlier (a caller may cache `SpecFile`s by content).
    public init(parsed: [SpecFile], alwaysSpec: (String) -> Bool = SpecCatalog.isConventionalSpecPath) {
        for file in parsed {
            guard file.declaresSpec || alwaysSpec(file.path) else { continue }
            specFileCount += 1
            pipelines += file.pipelines
            approvals += file.approvals
            diagnostics += file.diagnostics
        }
        checkDuplicatePipelines()
    }

    /// True when no file holds an error.
    public var isValid: Bool { !diagnostics.hasErrors }

    /// Files in a `pipelines/` or `approvals/` directory must be specs, whatever they contain.
    public static func isConventionalSpecPath(_ path: String) -> Bool {
        let components = path.split(separator: "/")
        return components.dropLast().contains { $0 == "pipelines" || $0 == "approvals" }
    }

    private mutating func checkDuplicatePipelines() {
        var firstSeen: [String: PipelineDocument] = [:]
        for document in pipelines {
            guard let first = firstSeen[document.pipeline.name] else {
                firstSeen[document.pipeline.name] = document
                continue
            }
            let at = document.locations["metadata.name"] ?? document.location
            let earlier = "\(first.file):\(first.location.line)"
            diagnostics.append(
                Diagnostic(
                    .error, file: document.file, at: at, "pipeline '\(document.pipeline.name)' is already defined at \(earlier)"))
        }
    }
}
