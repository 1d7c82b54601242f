"""mizzen.scheduler"""
