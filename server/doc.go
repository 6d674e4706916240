// Package server will own flowd's HTTP surface: inbound messages and events,
// outbound delivery, the admin API, health and metrics. Not built yet.
package server
