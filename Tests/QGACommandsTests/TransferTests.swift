import QGAClient
import QGALibvirt
import QGAProtocol
import Testing

@testable import QGACommands

/// The pieces of `qga cp` that need no agent: the TARGET:/PATH split, chunk sizes, the
/// terminal filter and the progress figures.
@Suite struct TransferTests {
    @Test(arguments: [
        ("vm1:/etc/hosts", "vm1", "/etc/hosts"),
        ("/run/vm1/qga.sock:/etc/hosts", "/run/vm1/qga.sock", "/etc/hosts"),
        ("unix:/run/vm1/qga.sock:/tmp/a b", "unix:/run/vm1/qga.sock", "/tmp/a b"),
        ("vm1:/", "vm1", "/"),
    ])
    func guestSideSplitsAtTheLastColonSlash(text: String, target: String, path: String) throws {
        guard case .guest(let parsed, let guestPath) = try CopyEndpoint.argument(text) else {
            Issue.record("\(text) is not a guest file")
            return
        }
        #expect(parsed == (try Target(parsing: target)))
        #expect(guestPath == path)
    }

    @Test func hostSideAndStandardStreams() throws {
        guard case .host("./out") = try CopyEndpoint.argument("./out") else { throw Failure() }
        guard case .host("/tmp/x:y") = try CopyEndpoint.argument("/tmp/x:y") else { throw Failure() }
        guard case .standard = try CopyEndpoint.argument("-") else { throw Failure() }
        #expect(throws: (any Error).self) { try CopyEndpoint.argument(":/etc/hosts") }
    }

    @Test func chunkSizesFitTheTransport() {
        let direct = ChunkSizes.forConnection(throughLibvirt: false, maxReplySize: 16 << 20)
        #expect(direct == ChunkSizes.direct)
        #expect(direct.readDepth > 1 && direct.writeDepth == 1)
        // The read requests in flight fit in one of qemu-ga's 4 KiB reads (largest handle,
        // count and id), so it never answers one holding part of the next (AgentPipeline).
        var request = Request("guest-file-read", arguments: ["handle": .number(JSONNumber(Int64.max)), "count": .number(JSONNumber(direct.read))])
        request.id = .number(JSONNumber(UInt64.max))
        #expect(direct.readDepth * request.encoded.count < 4096)
        let libvirt = ChunkSizes.forConnection(throughLibvirt: true, maxReplySize: 16 << 20)
        #expect(libvirt == ChunkSizes(read: (3 << 20) - (64 << 10), write: 128 << 10, readDepth: 1, writeDepth: 1))
        // A read's base64 reply and its JSON stay under libvirt's 4 MiB RPC string, and a
        // write's request under the 192 KiB libvirt delivers intact.
        #expect((libvirt.read + 2) / 3 * 4 + 256 < 4 << 20)
        #expect((libvirt.write + 2) / 3 * 4 + 1024 < LibvirtAgent.maxRequest)
        // A small --max-reply-size shrinks the reads so that each reply fits it.
        let capped = ChunkSizes.forConnection(throughLibvirt: true, maxReplySize: 1 << 20)
        #expect((capped.read + 2) / 3 * 4 + 256 <= 1 << 20)
        #expect(ChunkSizes.forConnection(throughLibvirt: false, maxReplySize: 1024).read == 576)
    }

    @Test func terminalFilterEscapesControlsAndKeepsSplitCharacters() {
        var filter = TerminalFilter()
        let escaped = filter.filter(Array("a\tb\n\u{1B}[2J\u{202E}".utf8))
        #expect(String(decoding: escaped, as: UTF8.self) == "a\tb\n\\u001b[2J\\u202e")
        // "é" split between two chunks comes out whole.
        let first = filter.filter([0x78, 0xC3])
        let second = filter.filter([0xA9, 0x79])
        #expect(String(decoding: first + second + filter.finish(), as: UTF8.self) == "xéy")
    }

    @Test func progressSizes() {
        #expect(Progress.size(512) == "512 B")
        #expect(Progress.size(1536) == "1.5 KiB")
        #expect(Progress.size(20 << 20) == "20.0 MiB")
    }

    struct Failure: Error {}
}
