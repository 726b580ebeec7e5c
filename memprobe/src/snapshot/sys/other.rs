//! Fallback reader for every platform without a native one (Windows, the BSDs, ...): `sysinfo`,
//! refreshing only this process's memory. It offers the resident and virtual size; every other
//! figure is `None`. A refresh allocates, unlike the Linux and macOS readers.

use std::sync::Mutex;

use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

use crate::Error;
use crate::snapshot::MemorySnapshot;

/// A `sysinfo::System` kept between readings, behind a lock because refreshing needs `&mut`.
#[derive(Debug)]
pub(crate) struct Reader {
    pid: u32,
    system: Mutex<System>,
}

impl Reader {
    pub(crate) fn open(pid: u32) -> crate::Result<Self> {
        let system = System::new().map_err(|_| Error::Unsupported {
            what: "reading process memory (sysinfo could not initialise)",
            platform: std::env::consts::OS,
        })?;
        let reader = Reader {
            pid,
            system: Mutex::new(system),
        };
        reader.rss_bytes()?;
        Ok(reader)
    }

    /// Resident and virtual size, in bytes.
    fn read(&self) -> crate::Result<(u64, u64)> {
        let mut system = self
            .system
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let pid = Pid::from_u32(self.pid);
        system.refresh_processes_specifics(
            ProcessesToUpdate::Some(&[pid]),
            true,
            ProcessRefreshKind::nothing().with_memory(),
        );
        let process = system
            .process(pid)
            .ok_or(Error::ProcessNotFound { pid: self.pid })?;
        Ok((process.memory(), process.virtual_memory()))
    }

    pub(crate) fn rss_bytes(&self) -> crate::Result<u64> {
        Ok(self.read()?.0)
    }

    pub(crate) fn snapshot(&self) -> crate::Result<MemorySnapshot> {
        let (rss_bytes, virtual_bytes) = self.read()?;
        Ok(MemorySnapshot {
            rss_bytes,
            virtual_bytes: Some(virtual_bytes),
            ..MemorySnapshot::default()
        })
    }

    pub(crate) fn reset_peak(&self) -> crate::Result<()> {
        Err(Error::Unsupported {
            what: "resetting the peak RSS",
            platform: std::env::consts::OS,
        })
    }

    pub(crate) fn start_time_ticks(&self) -> crate::Result<u64> {
        Err(Error::Unsupported {
            what: "the start time in clock ticks (/proc/<pid>/stat)",
            platform: std::env::consts::OS,
        })
    }
}
