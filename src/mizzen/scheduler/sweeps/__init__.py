"""mizzen.scheduler.sweeps"""
