import Foundation
import QGATestSupport
import Testing

/// Agent-mode reboot and shutdown on the test bed; scripts/test runs this suite last, since
/// it leaves the guest shut off.
@Suite(.serialized, .enabled(if: TestBed.current != nil, "the VM test bed is not up (scripts/vm-testbed up)"))
struct VMLifecycleTests {
    let bed = TestBed.current!

    @Test func rebootWaitComesBackThenShutdownWaitLeavesItOff() throws {
        let reboot = try bed.qga("reboot", [bed.domain, "--wait", "180"], timeout: 200)
        #expect(reboot.status == 0, "\(reboot)")
        let ping = try bed.qga("exec", [bed.domain, "guest-ping"])
        #expect(ping.status == 0, "\(ping)")

        let shutdown = try bed.qga("shutdown", [bed.domain, "--wait"], timeout: 200)
        #expect(shutdown.status == 0, "\(shutdown)")
        let state = try bed.virsh(["domstate", bed.domain])
        #expect(state.stdoutText.contains("shut off"), "\(state)")

        // With the guest gone, the agent is unreachable, and qga says so.
        let after = try bed.qga("exec", [bed.domain, "guest-ping"])
        #expect(after.status == 2, "\(after)")
    }
}
