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

    /// True when no file holds an error.
    public var isValid: Bool { !diagnostics.hasErrors }

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

/// A name and the file it was found in.
public struct NamedFile: Sendable, Hashable {
    public let name: String
    public let file: String
}
