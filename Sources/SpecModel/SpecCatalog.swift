import Foundation

/// Every spec found in a set of files, with the problems across them (such as a pipeline
/// name defined twice). Pure: it takes bytes, so the same code serves a directory and a commit.
public struct SpecCatalog: Sendable {
    public private(set) var pipelines: [PipelineDocument] = []
    public private(set) var approvals: [ApprovalDocument] = []
    public private(set) var diagnostics: [Diagnostic] = []
    /// Pipelines named in a file whose documents do not decode; their files are in `diagnostics`.
    public private(set) var undecodedPipelines: [NamedFile] = []
    /// How many files held pipeline-agent documents.
    public private(set) var specFileCount = 0

    /// Builds a catalog from `(path, bytes)` pairs. `isRead` tells which paths the agent reads as specs
    /// (`SpecLocation.isRead` of the path in the repository): those must hold specs, and a spec elsewhere
    /// is an error, since the agent would never see it.
    public init(files: [(path: String, bytes: Data)], isRead: (String) -> Bool = SpecLocation.isRead) {
        self.init(parsed: files.map { SpecFile(path: $0.path, bytes: $0.bytes) }, isRead: isRead)
    }

    /// Builds a catalog from files parsed earlier (a caller may cache `SpecFile`s by content).
    public init(parsed: [SpecFile], isRead: (String) -> Bool = SpecLocation.isRead) {
        for file in parsed {
            let read = isRead(file.path)
            guard file.declaresSpec || read else { continue }
            specFileCount += 1
            guard read else {
                diagnostics.append(SpecLocation.misplaced(file.path))
                continue
            }
            pipelines += file.pipelines
            approvals += file.approvals
            diagnostics += file.diagnostics
            undecodedPipelines += file.invalidPipelineNames.map { NamedFile(name: $0, file: file.path) }
        }
        checkDuplicatePipelines()
    }

    /// The catalog with problems found by a reader that knows more (the agent knows its watched branch).
    public func adding(_ extra: [Diagnostic]) -> SpecCatalog {
        var copy = self
        copy.diagnostics += extra
        return copy
    }

    /// True when no file holds an error.
    public var isValid: Bool { !diagnostics.hasErrors }

    /// A name defined twice is an error in every file that defines it: no file takes a pipeline over
    /// by sorting first, and the agent keeps the pipeline's last valid spec until one definition is left.
    private mutating func checkDuplicatePipelines() {
        var firstSeen: [String: PipelineDocument] = [:]
        var reportedFirst = Set<String>()
        for document in pipelines {
            let name = document.pipeline.name
            guard let first = firstSeen[name] else {
                firstSeen[name] = document
                continue
            }
            let at = document.locations["metadata.name"] ?? document.location
            let earlier = "\(first.file):\(first.location.line)"
            diagnostics.append(
                Diagnostic(.error, file: document.file, at: at, "pipeline '\(name)' is already defined at \(earlier)"))
            if reportedFirst.insert(name).inserted {
                let firstAt = first.locations["metadata.name"] ?? first.location
                diagnostics.append(
                    Diagnostic(
                        .error, file: first.file, at: firstAt,
                        "pipeline '\(name)' is defined again at \(document.file):\(document.location.line); a name must be "
                            + "defined once (the agent keeps its last valid spec until then)"))
            }
        }
    }
}

/// A name and the file it was found in.
public struct NamedFile: Sendable, Hashable {
    public let name: String
    public let file: String
}
