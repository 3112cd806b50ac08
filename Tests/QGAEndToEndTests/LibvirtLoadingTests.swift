import Foundation
import Glibc
import QGATestSupport
import Testing

/// qga loads libvirt on first use instead of linking it (issue 11, item 1): a socket or vsock
/// target never maps it, a domain target loads it, and without it a domain target gets a
/// clear error. glibc's `LD_DEBUG=files` names every object the process loads, linked
/// (`needed by`) or opened at run time (`dynamically loaded by`), before it runs a line of qga.
@Suite struct LibvirtLoadingTests {
    /// The objects a run loaded whose name mentions libvirt.
    static func libvirtObjects(_ result: ProcessResult) -> [Substring] {
        result.stderr.split(separator: "\n").filter { $0.contains("file=libvirt") }
    }

    @Test func aSocketTargetNeverMapsLibvirt() throws {
        let agent = try AgentProcess(.qgad)
        let result = try Binaries.qga(["exec", agent.socketPath, "guest-ping"], environment: ["LD_DEBUG": "files"])
        #expect(result.status == 0, "\(result)")
        // The check can see loaded objects at all (libc is always there).
        #expect(result.stderr.contains("file=libc.so.6"), "\(result)")
        #expect(Self.libvirtObjects(result).isEmpty, "\(result)")
    }

    @Test func aVsockTargetNeverMapsLibvirt() throws {
        let result = try Binaries.qga(["exec", "vsock:3:1", "guest-ping", "--timeout", "2"], environment: ["LD_DEBUG": "files"])
        #expect(!result.timedOut, "\(result)")
        #expect(result.stderr.contains("file=libc.so.6"), "\(result)")
        #expect(Self.libvirtObjects(result).isEmpty, "\(result)")
    }

    /// The counterpart: a domain target does load libvirt, at run time (libvirt's built-in
    /// test driver; its domain has no agent channel, which is reported as unreachable).
    @Test func aDomainTargetLoadsLibvirtWhenUsed() throws {
        let result = try Binaries.qga(["exec", "test", "guest-ping", "-c", "test:///default"], environment: ["LD_DEBUG": "files"])
        #expect(result.status == 2, "\(result)")
        let loaded = Self.libvirtObjects(result)
        #expect(loaded.contains { $0.contains("file=libvirt.so.0") && $0.contains("dynamically loaded by") }, "\(result)")
        #expect(loaded.contains { $0.contains("file=libvirt-qemu.so.0") && $0.contains("dynamically loaded by") }, "\(result)")
        #expect(!loaded.contains { $0.contains("needed by") && $0.contains("/qga ") }, "\(result)")
    }

    /// Without libvirt (QGA_LIBVIRT_SONAME, for tests only, names a file that is not there), a
    /// domain target is unreachable (exit 2) and the message names the package to install;
    /// nothing crashes, and socket targets are unaffected.
    @Test func missingLibvirtIsAClearErrorNotACrash() throws {
        let missing = ["QGA_LIBVIRT_SONAME": "libvirt-missing-for-qga-tests.so.0"]
        for arguments in [
            ["exec", "test", "guest-ping", "-c", "test:///default"],
            ["ping", "test", "-c", "test:///default"],
            ["wait", "test", "-c", "test:///default", "--timeout", "2"],
            ["ping", "--all", "-c", "test:///default"],
        ] {
            let result = try Binaries.qga(arguments, environment: missing)
            #expect(result.status == 2, "\(arguments): \(result)")
            #expect(result.stderr.contains("cannot load libvirt"), "\(arguments): \(result)")
            #expect(result.stderr.contains("libvirt0"), "\(arguments): \(result)")
        }
        let agent = try AgentProcess(.qgad)
        let result = try Binaries.qga(["exec", agent.socketPath, "guest-ping"], environment: missing)
        #expect(result.status == 0, "\(result)")
    }

    /// Every libvirt function QGALibvirt calls has a stub (a missing one fails the link, since
    /// nothing links libvirt), and the committed stubs are what the generator makes today.
    @Test func theStubsAreUpToDate() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        let result = try run(root + "/scripts/generate-libvirt-stubs", ["--check"], timeout: 60)
        #expect(result.status == 0, "\(result)")
    }
}
