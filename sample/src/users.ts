import { IsInt, IsString } from 'class-validator';

/** A user as the sample keeps it in the session. */
export class User {
  @IsInt() id!: number;
  @IsString() name!: string;
}

/** The one account of the sample's login form. */
export const demoAccount = {
  id: 1,
  username: 'sharon',
  password: 'correct horse battery staple',
  name: 'Sharon',
};

declare module 'routing-controllers-session' {
  interface SessionData {
    /** Nullable, so that `session.users = null` (which removes the key) compiles. */
    users?: User[] | null;
  }
}
