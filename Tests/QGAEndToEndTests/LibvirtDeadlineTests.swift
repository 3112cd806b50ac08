import Foundation
import Glibc
import QGATestSupport
import Testing

/// qga against a libvirtd that stops answering one call (issue 8, item 19): every libvirt
/// call has a deadline, so qga gives up (exit 3, naming the call) instead of hanging. The
/// fake daemon answers the connection handshake, the lookup, the XML and the state, and
/// leaves the chosen procedure unanswered; no real libvirtd is needed.
@Suite struct LibvirtDeadlineTests {
    typealias P = FakeLibvirtd.Procedure

    /// A domain whose agent channel libvirt owns, so qga goes through libvirt's API.
    static let xml = """
        <domain type='kvm' id='1'>
          <name>vm</name>
          <devices>
            <channel type='unix'>
              <source mode='bind' path='/nonexistent/org.qemu.guest_agent.0'/>
              <target type='virtio' name='org.qemu.guest_agent.0' state='connected'/>
            </channel>
          </devices>
        </domain>
        """

    @Test(arguments: [
        (P.domainLookupByName, "looking up domain 'vm'", [String]()),
        // qga reads the XML only to find a channel --channel names.
        (P.domainGetXMLDesc, "reading the XML of vm", ["--channel", "org.qemu.guest_agent.0"]),
    ])
    func aStalledLookupOrXMLTimesOut(procedure: Int32, what: String, channel: [String]) throws {
        let libvirtd = try FakeLibvirtd(xml: Self.xml) { _, called in called == procedure }
        let result = try Binaries.qga(["exec", "vm", "guest-ping", "-c", libvirtd.uri, "--timeout", "1"] + channel, timeout: 20)
        #expect(result.status == 3, "\(result)")
        #expect(result.stderr.contains("\(what) did not complete within 1 s"), "\(result)")
        #expect(result.seconds < 10, "\(result)")
        #expect(libvirtd.procedures(on: 1).contains(procedure))
    }

    @Test func aStalledStateTimesOut() throws {
        // shutdown --wait polls the domain's state until it is shut off.
        let libvirtd = try FakeLibvirtd(xml: Self.xml) { _, called in called == P.domainGetState }
        let result = try Binaries.qga(["shutdown", "vm", "-c", libvirtd.uri, "--timeout", "1", "--wait", "15"], timeout: 30)
        #expect(result.status == 3, "\(result)")
        #expect(result.stderr.contains("reading the state of vm did not complete within 1 s"), "\(result)")
        #expect(result.seconds < 10, "\(result)")
        #expect(libvirtd.procedures(on: 1).contains(P.domainShutdownFlags))
    }

    @Test func aShutdownWhoseChannelClosesFirstSucceeds() throws {
        // A guest that powers off fast closes QEMU's end of the agent channel before libvirt
        // sees the SHUTDOWN event; libvirtd then reports the end of file as the call's error.
        let libvirtd = try FakeLibvirtd(xml: Self.xml, shutdownError: "internal error: End of file from agent socket") { _, _ in false }
        let result = try Binaries.qga(["shutdown", "vm", "-c", libvirtd.uri], timeout: 30)
        #expect(result.status == 0, "\(result)")
        #expect(libvirtd.procedures(on: 1).contains(P.domainGetState))
        // Any other failure of the call is still one.
        let refusing = try FakeLibvirtd(xml: Self.xml, shutdownError: "internal error: something else") { _, _ in false }
        let refused = try Binaries.qga(["shutdown", "vm", "-c", refusing.uri], timeout: 30)
        #expect(refused.status == 5, "\(refused)")
    }

    @Test func freezeRunsThawRetriesAreBoundedWhenLibvirtStalls() throws {
        // The first connection freezes, then never answers the thaw; every fresh connection
        // stalls at the lookup. Three bounded attempts, then exit 6, saying so.
        let libvirtd = try FakeLibvirtd(xml: Self.xml) { connection, called in
            connection == 1 ? called == P.domainFSThaw : called == P.domainLookupByName
        }
        let result = try Binaries.qga(
            ["freeze-run", "vm", "-c", libvirtd.uri, "--timeout", "1", "--sync-timeout", "1", "--", "/bin/true"], timeout: 40)
        #expect(result.status == 6, "\(result)")
        #expect(result.stderr.contains("may still be frozen"), "\(result)")
        #expect(result.stderr.contains("thaw attempt 3 failed: libvirt at"), "\(result)")
        #expect(libvirtd.procedures(on: 1).contains(P.domainFSFreeze))
        #expect(libvirtd.calls.withLock { $0.map(\.connection).max() } == 3)
    }

    @Test func aSignalEndsAStalledThawAtOnce() throws {
        let libvirtd = try FakeLibvirtd(xml: Self.xml) { _, called in called == P.domainFSThaw }
        let qga = try BackgroundProcess(
            try Binaries.path("qga"), ["freeze-run", "vm", "-c", libvirtd.uri, "--timeout", "60", "--", "/bin/true"],
            mode: .processGroup)
        #expect(poll(seconds: 20) { libvirtd.procedures(on: 1).contains(P.domainFSThaw) })
        qga.signal(SIGTERM)
        let result = qga.finish(timeout: 10)
        #expect(result.status == 6, "\(result)")
        #expect(result.stderr.contains("THAW INTERRUPTED by signal \(SIGTERM)"), "\(result)")
        #expect(result.stderr.contains("may still be frozen"), "\(result)")
        #expect(!result.timedOut)
    }
}
