import { seedScenarios } from '../helpers/envoy-seeds.js'

seedScenarios('envoy/envoy.yaml', { envoyFile: 'envoy/envoy.yaml' })
seedScenarios('envoy/envoy-http.yaml', { envoyFile: 'envoy/envoy-http.yaml' })
