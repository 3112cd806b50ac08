import Dispatch
import Glibc
import QGAClient
import Testing

@testable import QGACommands
@testable import QGALibvirt

@Suite struct DomainXMLTests {
    static let xml = """
        <domain type='qemu' id='3'>
          <name>vm &amp; co</name>
          <devices>
            <channel type='unix'>
              <source mode='bind' path='/var/lib/libvirt/qemu/channel/target/domain-3-vm/org.qemu.guest_agent.0'/>
              <target type='virtio' name='org.qemu.guest_agent.0' state='connected'/>
              <alias name='channel0'/>
            </channel>
            <channel type="unix">
              <source mode="bind" path="/run/it&apos;s here/agent1.sock"/>
              <target type="virtio" name="org.qemu.guest_agent.1" state="disconnected"/>
            </channel>
            <channel type='spicevmc'>
              <target type='virtio' name='com.redhat.spice.0'/>
            </channel>
            <channelx type='unix'><target name='org.qemu.guest_agent.9'/></channelx>
          </devices>
        </domain>
        """

    @Test func findsAgentChannelsOnly() {
        let channels = AgentChannel.all(inDomainXML: Self.xml)
        #expect(channels.map(\.name) == ["org.qemu.guest_agent.0", "org.qemu.guest_agent.1"])
        #expect(channels[0].isLibvirtManaged)
        #expect(channels[0].state == "connected")
        #expect(channels[1].path == "/run/it's here/agent1.sock")
        #expect(channels[1].state == "disconnected")
        #expect(channels[1].type == "unix")
    }

    @Test func noChannels() {
        #expect(AgentChannel.all(inDomainXML: "<domain><devices/></domain>").isEmpty)
    }

    @Test func escapesNames() {
        #expect(escapeXML("a<b>&'\"") == "a&lt;b&gt;&amp;&apos;&quot;")
        #expect(unescapeXML("x &amp;&#65;&#x42; &bogus; &") == "x &AB &bogus; &")
    }
}

@Suite struct LibvirtErrorTests {
    @Test(arguments: [
        (42, "Domain not found: no domain with matching name 'x'", 2),
        (74, "argument unsupported: QEMU guest agent is not configured", 2),
        (86, "Guest agent is not responding: QEMU guest agent is not connected", 2),
        (86, "Guest agent is not responding: guest agent didn't respond to synchronization within '5' seconds", 3),
        (68, "Timed out during operation: cannot acquire state change lock", 3),
        (55, "Requested operation is not valid: domain is not running", 2),
        (1, "internal error: unable to execute QEMU agent command 'guest-x': The command guest-x has not been found", 1),
        (9, "operation failed: snapshot failed", 5),
    ] as [(Int32, String, Int32)])
    func mapsToExitCodes(code: Int32, message: String, status: Int32) {
        #expect(ExitStatus(translate(LibvirtError(code: code, message: message))).code == status)
    }

    @Test func agentErrorsKeepTheDescription() {
        let error = translate(LibvirtError(code: 1, message: "internal error: unable to execute QEMU agent command 'guest-x': The command guest-x has not been found"))
        #expect(error.code == .agentError(.init(errorClass: "CommandNotFound", desc: "The command guest-x has not been found")))
    }
}

@Suite struct DeadlineTests {
    /// Abandoned calls (a wedged libvirtd) must not delay the next one: on Dispatch's global
    /// queue, with its threads blocked, a new call started only seconds later, past its
    /// deadline.
    @Test func aCallStartsAtOnceAfterOthersWereAbandoned() throws {
        let release = DispatchSemaphore(value: 0)
        let abandoned = sysconf(Int32(_SC_NPROCESSORS_ONLN)) + 2
        defer { for _ in 0..<abandoned { release.signal() } }
        for _ in 0..<abandoned {
            #expect(throws: ClientError.self) {
                try withDeadline(seconds: 0.05, "a wedged call") { () -> Result<Int, ClientError> in
                    release.wait()
                    return .success(0)
                }
            }
        }
        #expect(try withDeadline(seconds: 0.5, "a quick call") { .success(42) } == 42)
    }
}
