"""mizzen.scheduler.schedules: cron, interval and datetime schedules (a tick is a child run)."""
