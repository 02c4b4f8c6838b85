/**
 * CDK entry point (`cdk.json` runs it on Node 24, which strips the types): `cdk synth`,
 * `cdk deploy --all [-c stage=dev|prod|local]`.
 */
import { App } from 'aws-cdk-lib';
import { addServiceStacks } from './stacks/service-app.ts';

const app = new App();
addServiceStacks(app);
app.synth();
