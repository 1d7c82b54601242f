"""mizzen.executors.local"""
