// The AWS SDK announces its future Node 22 requirement on every client; the service logs it as
// JSON, but in test output it is only noise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
