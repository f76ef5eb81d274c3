export { loadConfig, type Config, type Role } from './load-config';
export { describeVariables, envSchema, type VariableInfo, type EnvName } from './config.schema';
