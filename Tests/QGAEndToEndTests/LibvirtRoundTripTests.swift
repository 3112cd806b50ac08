import Foundation
import QGATestSupport
import Testing

/// The libvirt calls one domain command makes (issue 11, item 2), counted by the fake
/// libvirtd: qga asks libvirt's agent first and reads the domain's XML only when libvirt
/// has no agent channel of its own, or when `--channel` names one. No real libvirtd needed;
/// VMRoundTripTests compares the counts with virsh's on a real one.
@Suite struct LibvirtRoundTripTests {
    typealias P = FakeLibvirtd.Procedure

    /// A domain whose agent channel libvirt owns.
    static let managed = """
        <domain type='kvm' id='1'><name>vm</name><devices>
          <channel type='unix'><source mode='bind' path='/nonexistent/org.qemu.guest_agent.0'/><target type='virtio' name='org.qemu.guest_agent.0' state='connected'/></channel>
        </devices></domain>
        """

    /// The remote procedures a successful command on `vm` may make: the connection's
    /// handshake and close, and one lookup.
    static let handshake: Set<Int32> = [P.authList, P.connectOpen, P.connectSupportsFeature, P.connectClose]

    @Test(arguments: [["exec", "vm", "guest-ping"], ["ping", "vm"], ["exec", "vm", "guest-ping", "--compact"]])
    func aDomainCommandMakesOneLookupAndOneAgentCall(command: [String]) throws {
        let libvirtd = try FakeLibvirtd(xml: Self.managed) { _, _ in false }
        let result = try Binaries.qga(command + ["-c", libvirtd.uri], timeout: 30)
        #expect(result.status == 0, "\(result)")
        let procedures = libvirtd.procedures(on: 1)
        #expect(!procedures.contains(P.domainGetXMLDesc), "\(procedures)")
        #expect(!procedures.contains(P.domainGetState), "\(procedures)")
        #expect(procedures.count { $0 == P.domainLookupByName } == 1, "\(procedures)")
        #expect(Set(procedures).subtracting(Self.handshake) == [P.domainLookupByName], "\(procedures)")
        #expect(libvirtd.agentCommands == 1)
    }

    @Test func withoutLibvirtsChannelTheXMLNamesAnotherSocket() throws {
        let agent = try AgentProcess(.qgad)
        let xml = """
            <domain type='kvm' id='1'><name>vm</name><devices>
              <channel type='unix'><source mode='bind' path='\(agent.socketPath)'/><target type='virtio' name='org.qemu.guest_agent.1'/></channel>
            </devices></domain>
            """
        let libvirtd = try FakeLibvirtd(xml: xml) { _, _ in false }
        let info = try Binaries.qga(["exec", "-c", libvirtd.uri, "vm", "guest-info"], timeout: 30)
        #expect(info.status == 0, "\(info)")
        #expect(info.stdoutText.contains("supported_commands"), "\(info)")
        #expect(libvirtd.procedures(on: 1).count { $0 == P.domainGetXMLDesc } == 1)
        #expect(libvirtd.agentCommands == 1)
        // Many agent calls (guest-exec, then guest-exec-status): libvirt refuses once, then
        // the socket serves them all.
        let run = try Binaries.qga(["run", "-c", libvirtd.uri, "vm", "--", "/bin/sh", "-c", "echo ran"], timeout: 30)
        #expect(run.status == 0, "\(run)")
        #expect(run.stdoutText == "ran\n", "\(run)")
        #expect(libvirtd.procedures(on: 2).count { $0 == P.domainGetXMLDesc } == 1)
        #expect(libvirtd.agentCommands == 2)
    }

    @Test func aDomainWithoutAgentChannelSaysSo() throws {
        let xml = "<domain type='kvm' id='1'><name>vm</name><devices></devices></domain>"
        let libvirtd = try FakeLibvirtd(xml: xml) { _, _ in false }
        let result = try Binaries.qga(["exec", "-c", libvirtd.uri, "vm", "guest-ping"], timeout: 30)
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains("vm: QEMU guest agent is not configured (the domain has no org.qemu.guest_agent channel)"), "\(result)")
        #expect(libvirtd.agentCommands == 1)
        #expect(libvirtd.procedures(on: 1).count { $0 == P.domainGetXMLDesc } == 1)
    }

    @Test func aChannelThatIsNotThereIsNamed() throws {
        let libvirtd = try FakeLibvirtd(xml: Self.managed) { _, _ in false }
        let result = try Binaries.qga(
            ["exec", "-c", libvirtd.uri, "--channel", "org.qemu.guest_agent.7", "vm", "guest-ping"], timeout: 30)
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains("vm: no guest agent channel named org.qemu.guest_agent.7 (it has: org.qemu.guest_agent.0)"), "\(result)")
        #expect(libvirtd.agentCommands == 0)
    }

    @Test func freezeAndThawGoStraightToLibvirt() throws {
        let libvirtd = try FakeLibvirtd(xml: Self.managed) { _, _ in false }
        for action in ["freeze", "thaw"] {
            let result = try Binaries.qga(["fsfreeze", action, "-c", libvirtd.uri, "vm"], timeout: 30)
            #expect(result.status == 0, "\(result)")
        }
        let all = libvirtd.calls.withLock { $0.filter { $0.program == FakeLibvirtd.remoteProgram }.map(\.procedure) }
        #expect(!all.contains(P.domainGetXMLDesc), "\(all)")
        #expect(all.contains(P.domainFSFreeze) && all.contains(P.domainFSThaw), "\(all)")
    }
}
