import Foundation
import GitSource
import Logging
import SpecModel
import TestSupport
import Testing

@testable import Reconciler

@Suite("Reading specs from commits")
struct SpecReaderTests {
    static let pipeline = """
        apiVersion: pipeline-agent/v1
        kind: Pipeline
        metadata: {name: NAME}
        spec:
          source: {branch: main}
          stages: [{name: dev, steps: [{name: build, run: make}]}]

        """

    @Test("specs are parsed once per blob; unchanged files are not re-read")
    func cachesByBlob() throws {
        let fixture = try GitFixture()
        let first = try fixture.commit(
            "specs",
            files: [
                "pipelines/a.yaml": Self.pipeline.replacingOccurrences(of: "NAME", with: "a"),
                "pipelines/b.yaml": Self.pipeline.replacingOccurrences(of: "NAME", with: "b"),
                "app/code.txt": "x",
            ])
        let second = try fixture.commit("app only", files: ["app/code.txt": "y"])
        let third = try fixture.commit(
            "edit b", files: ["pipelines/b.yaml": Self.pipeline.replacingOccurrences(of: "NAME", with: "b2")])
        let repository = try GitRepository.open(at: fixture.path)
        let reader = SpecReader(logger: Logger(label: "test"))

        let one = try reader.catalog(at: ObjectID(hex: first)!, in: repository)
        #expect(one.pipelines.map(\.pipeline.name).sorted() == ["a", "b"])
        #expect(reader.parseCount == 2)
        _ = try reader.catalog(at: ObjectID(hex: second)!, in: repository)
        #expect(reader.parseCount == 2)
        let three = try reader.catalog(at: ObjectID(hex: third)!, in: repository)
        #expect(three.pipelines.map(\.pipeline.name).sorted() == ["a", "b2"])
        #expect(reader.parseCount == 3)
    }

    @Test("an invalid spec at a commit yields located diagnostics with repository paths")
    func invalidAtCommit() throws {
        let fixture = try GitFixture()
        let id = try fixture.commit(
            "bad", files: ["pipelines/a.yaml": Self.pipeline.replacingOccurrences(of: "run: make", with: "rum: make")])
        let catalog = try SpecReader(logger: Logger(label: "test"))
            .catalog(at: ObjectID(hex: id)!, in: GitRepository.open(at: fixture.path))
        #expect(!catalog.isValid)
        #expect(catalog.diagnostics.map(\.description).contains { $0.hasPrefix("pipelines/a.yaml:6:") })
    }

    @Test("a later process reads each file as this build parsed it before: same catalog, nothing parsed again")
    func parsedFilesSurviveARestart() throws {
        let fixture = try GitFixture()
        let id = try fixture.commit(
            "specs",
            files: [
                "pipelines/a.yaml": Self.pipeline.replacingOccurrences(of: "NAME", with: "a"),
                "pipelines/bad.yaml": Self.pipeline.replacingOccurrences(of: "run: make", with: "rum: make"),
            ])
        let repository = try GitRepository.open(at: fixture.path)
        let state = fixture.scratch.sub("state")
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        let first = SpecReader(logger: Logger(label: "t"), persistent: CacheAccess(directory: state, logger: Logger(label: "t")))
        let before = try first.catalog(at: ObjectID(hex: id)!, in: repository)
        #expect(first.parseCount == 2)
        let second = SpecReader(logger: Logger(label: "t"), persistent: CacheAccess(directory: state, logger: Logger(label: "t")))
        let after = try second.catalog(at: ObjectID(hex: id)!, in: repository)
        #expect(second.parseCount == 0)
        #expect(after.pipelines == before.pipelines)
        #expect(after.diagnostics == before.diagnostics && !after.diagnostics.isEmpty)
    }
}
