import Foundation
import Glibc
import QGATestSupport
import Testing

/// `qga wait` across a boot of the test bed's guest: through libvirt (on its agent-lifecycle
/// events) and on the direct channel's socket (polled). scripts/test runs it in
/// VMLifecycleTests's slot, since it stops and starts the guest; it leaves the guest up.
@Suite(.serialized, .enabled(if: TestBed.current != nil, "the VM test bed is not up (scripts/vm-testbed up)"))
struct VMWaitTests {
    let bed = TestBed.current!

    @Test func waitAcrossABootThroughLibvirtAndTheDirectChannel() throws {
        if try bed.virsh(["domstate", bed.domain]).stdoutText.contains("running") {
            let destroyed = try bed.virsh(["destroy", bed.domain])
            #expect(destroyed.status == 0, "\(destroyed)")
        }
        // libvirt's own log shows the agent-lifecycle events qga received, and its agent
        // commands: pinged once libvirt says the agent connected, not polled through the boot.
        let log = try TemporaryDirectory("qga-vm-wait")
        defer { log.remove() }
        let qga = try Binaries.path("qga")
        let viaLibvirt = try BackgroundProcess(
            qga, ["wait", "-c", bed.uri, bed.domain, "--timeout", "180"], mode: .processGroup,
            environment: ["LIBVIRT_LOG_FILTERS": "1:*", "LIBVIRT_LOG_OUTPUTS": "1:file:\(log.path)/libvirt.log"])
        let viaSocket = try BackgroundProcess(qga, ["wait", bed.directSocket, "--timeout", "180"], mode: .processGroup)

        let started = try bed.virsh(["start", bed.domain])
        #expect(started.status == 0, "\(started)")
        let libvirtResult = viaLibvirt.finish(timeout: 200)
        let socketResult = viaSocket.finish(timeout: 200)
        #expect(libvirtResult.status == 0, "\(libvirtResult)")
        #expect(socketResult.status == 0, "\(socketResult)")
        let events = (try? String(contentsOfFile: "\(log.path)/libvirt.log", encoding: .utf8)) ?? ""
        func count(_ text: String) -> Int { events.components(separatedBy: text).count - 1 }
        #expect(count("classname=virDomainEventAgentLifecycle") >= 1, "no agent-lifecycle event in libvirt's log")
        let pings = count("virDomainQemuAgentCommand:")
        #expect(pings >= 1 && pings <= 3, "\(pings) agent commands during the boot")

        let ping = try bed.qga("exec", [bed.domain, "guest-ping"])
        #expect(ping.status == 0, "\(ping)")
    }
}
