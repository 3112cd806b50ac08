import Foundation
import Glibc
import QGATestSupport
import Testing

@testable import QGACommands

/// `qga cp -r`'s tar writer, reader and safe extractor, in-process on temporary directories.
@Suite struct TarTests {
    /// A reader over `bytes`, handed out `chunk` bytes at a time.
    static func reader(_ bytes: [UInt8], chunk: Int = 700) -> Tar.Reader {
        var offset = 0
        return Tar.Reader {
            let end = min(offset + chunk, bytes.count)
            defer { offset = end }
            return Array(bytes[offset..<end])
        }
    }

    static func entries(_ reader: Tar.Reader) throws -> [(Tar.Entry, [UInt8])] {
        var out: [(Tar.Entry, [UInt8])] = []
        while let entry = try reader.next() {
            var data: [UInt8] = []
            while case let chunk = try reader.data(upTo: 1000), !chunk.isEmpty { data += chunk }
            out.append((entry, data))
        }
        return out
    }

    @Test func writtenEntriesReadBackIncludingLongNames() throws {
        let long = Array(String(repeating: "é-long/", count: 30).utf8)
        let data = (0..<5000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let written: [(Tar.Entry, [UInt8])] = [
            (Tar.Entry(path: Array("tree/".utf8), kind: .directory, mode: 0o755, size: 0), []),
            (Tar.Entry(path: Array("tree/empty".utf8), kind: .file, mode: 0o600, size: 0), []),
            (Tar.Entry(path: long + Array("file".utf8), kind: .file, mode: 0o644, size: data.count), data),
            (Tar.Entry(path: Array("tree/link".utf8), kind: .symlink(target: long), mode: 0o777, size: 0), []),
        ]
        var archive: [UInt8] = []
        for (entry, bytes) in written { archive += Tar.header(for: entry) + bytes + Tar.padding(after: bytes.count) }
        archive += Tar.end
        #expect(archive.count % 512 == 0)
        let read = try TarTests.entries(TarTests.reader(archive))
        #expect(read.map(\.0) == written.map(\.0))
        #expect(read.map(\.1) == written.map(\.1))
    }

    @Test func paxRecordLengthCountsItself() {
        #expect(Tar.paxRecord("path", Array("a".utf8)) == Array("9 path=a\n".utf8))
        // 93 bytes without the length's own digits: 2 digits would make 95, which needs 2.
        let record = Tar.paxRecord("path", [UInt8](repeating: 0x61, count: 86))
        #expect(record.count == 95 && record.prefix(3) == Array("95 ".utf8)[...])
    }

    @Test func damagedArchivesAreErrors() throws {
        let file = TarBuilder.entry("f", type: "0", data: Array("hello".utf8))
        // Cut in the data, and no end marker at all.
        #expect(throws: Tar.Failure.self) { try TarTests.entries(TarTests.reader(Array(file.prefix(515)))) }
        #expect(throws: Tar.Failure.self) { try TarTests.entries(TarTests.reader(file)) }
        var corrupt = file + TarBuilder.end
        corrupt[3] ^= 0x01
        #expect(throws: Tar.Failure(message: "a header's checksum is wrong (not a tar archive, or a damaged one)")) {
            try TarTests.entries(TarTests.reader(corrupt))
        }
    }

    @Test(arguments: [
        ("/etc/passwd", "is an absolute path"),
        ("a/../../x", "climbs out with '..'"),
        ("..", "climbs out with '..'"),
    ])
    func unsafeNamesAreRefused(path: String, why: String) {
        do {
            _ = try HostTree.components(Array(path.utf8))
            Issue.record("\(path) was accepted")
        } catch {
            #expect((error as? CommandFailure)?.message == "refusing the guest's archive: \(path) \(why); nothing was copied")
        }
    }

    @Test func harmlessNamesBecomeComponents() throws {
        #expect(try HostTree.components(Array("./a//b/./c/".utf8)) == [Array("a".utf8), Array("b".utf8), Array("c".utf8)])
        #expect(try HostTree.components(Array("./".utf8)).isEmpty)
    }

    /// Extracts `archive` into a fresh directory; the directory's path and the error.
    static func extract(_ archive: [UInt8], into directory: String) -> (any Error)? {
        let root = open(directory, O_RDONLY | O_DIRECTORY)
        defer { close(root) }
        let extractor = HostTree.Extractor(root: root)
        do {
            try extractor.extract(reader(archive + TarBuilder.end))
            try extractor.finish()
            return nil
        } catch {
            return error
        }
    }

    @Test func aFileThroughALinkIsRefusedAndNothingIsWrittenOutside() throws {
        let base = try TemporaryDirectory("qga-tar")
        defer { base.remove() }
        try FileManager.default.createDirectory(atPath: base.path + "/dest", withIntermediateDirectories: false)
        try FileManager.default.createDirectory(atPath: base.path + "/outside", withIntermediateDirectories: false)
        let archive = TarBuilder.entry("door", type: "2", link: base.path + "/outside")
            + TarBuilder.entry("door/planted", type: "0", data: Array("owned".utf8))
        let error = TarTests.extract(archive, into: base.path + "/dest")
        #expect((error as? CommandFailure)?.message == "refusing the guest's archive: door/planted goes through a symbolic link or a file; nothing was copied")
        #expect((try? FileManager.default.contentsOfDirectory(atPath: base.path + "/outside")) == [])
        // The link itself was made, as a link, and is removed with the rest by the caller.
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: base.path + "/dest/door")) == base.path + "/outside")
    }

    @Test func hardLinksOnlyToFilesExtractedBefore() throws {
        let base = try TemporaryDirectory("qga-tar")
        defer { base.remove() }
        let good = TarBuilder.entry("f", type: "0", data: Array("data".utf8)) + TarBuilder.entry("g", type: "1", link: "f")
        #expect(TarTests.extract(good, into: base.path) == nil)
        #expect(FileManager.default.contents(atPath: base.path + "/g") == Data("data".utf8))
        let bad = TarBuilder.entry("h", type: "1", link: "/etc/passwd")
        #expect((TarTests.extract(bad, into: base.path) as? CommandFailure)?.message?.contains("/etc/passwd is an absolute path") == true)
        let linkFirst = TarBuilder.entry("l", type: "2", link: "/etc/passwd") + TarBuilder.entry("m", type: "1", link: "l")
        #expect((TarTests.extract(linkFirst, into: base.path) as? CommandFailure)?.message?.contains("is a hard link to l, not a file extracted before it") == true)
        #expect(!FileManager.default.fileExists(atPath: base.path + "/m"))
    }

    @Test func aRepeatedNameReplacesTheFileNotWhatALinkPointsAt() throws {
        let base = try TemporaryDirectory("qga-tar")
        defer { base.remove() }
        #expect(FileManager.default.createFile(atPath: base.path + "/victim", contents: Data("safe".utf8)))
        try FileManager.default.createDirectory(atPath: base.path + "/dest", withIntermediateDirectories: false)
        let archive = TarBuilder.entry("x", type: "2", link: base.path + "/victim") + TarBuilder.entry("x", type: "0", data: Array("new".utf8))
        #expect(TarTests.extract(archive, into: base.path + "/dest") == nil)
        #expect(FileManager.default.contents(atPath: base.path + "/victim") == Data("safe".utf8))
        #expect(FileManager.default.contents(atPath: base.path + "/dest/x") == Data("new".utf8))
    }

    /// A host tree archived by qga and extracted by qga comes out the same.
    @Test func hostTreeRoundTrip() throws {
        let base = try TemporaryDirectory("qga-tar")
        defer { base.remove() }
        let manager = FileManager.default
        try manager.createDirectory(atPath: base.path + "/src/sub/deeper", withIntermediateDirectories: true)
        #expect(manager.createFile(atPath: base.path + "/src/one", contents: Data("1".utf8)))
        #expect(manager.createFile(atPath: base.path + "/src/sub/deeper/zero", contents: Data()))
        try manager.createSymbolicLink(atPath: base.path + "/src/sub/up", withDestinationPath: "../one")
        mkfifo(base.path + "/src/fifo", 0o600)
        chmod(base.path + "/src/sub", 0o555)
        defer { chmod(base.path + "/src/sub", 0o755) }

        let source = open(base.path + "/src", O_RDONLY | O_DIRECTORY)
        defer { close(source) }
        var archive: [UInt8] = []
        var skipped: [String] = []
        try HostTree.archive(directory: source, name: Array("src".utf8), emit: { archive += $0 }, skipped: { skipped.append($0) })
        #expect(skipped == ["src/fifo"])

        try manager.createDirectory(atPath: base.path + "/out", withIntermediateDirectories: false)
        let out = open(base.path + "/out", O_RDONLY | O_DIRECTORY)
        defer { close(out) }
        let extractor = HostTree.Extractor(root: out)
        try extractor.extract(TarTests.reader(archive, chunk: 333))
        try extractor.finish()
        defer { chmod(base.path + "/out/src/sub", 0o755) }
        #expect(manager.contents(atPath: base.path + "/out/src/one") == Data("1".utf8))
        #expect(manager.contents(atPath: base.path + "/out/src/sub/deeper/zero") == Data())
        #expect((try? manager.destinationOfSymbolicLink(atPath: base.path + "/out/src/sub/up")) == "../one")
        var info = stat()
        #expect(stat(base.path + "/out/src/sub", &info) == 0 && info.st_mode & 0o777 == 0o555)
    }
}
